package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
)

// ImportHF reads a Hugging Face model folder: config.json, model.safetensors (or
// model.safetensors.index.json and its shards) and a tokenizer. tok is the tokenizer file
// or folder ("" = the model folder: tokenizer.json, else another format tokenizer.LoadAny
// reads). Weights are memory-mapped and converted tensor by tensor into one buffer, so
// memory peaks near the float32 size of the model.
func ImportHF(dir, tok string) (*Model, error) {
	return importHF(dir, ImportOptions{Tokenizer: tok})
}

func importHF(dir string, opts ImportOptions) (*Model, error) {
	tok := opts.Tokenizer
	cfgPath := filepath.Join(dir, "config.json")
	b, err := readBounded(cfgPath, MaxConfigSize)
	if err != nil {
		return nil, err
	}
	hc, err := ParseHFConfig(b, cfgPath)
	if err != nil {
		return nil, err
	}
	archName, err := hc.Architecture()
	if err != nil {
		return nil, err
	}
	arch, err := Lookup(archName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	cfg, err := arch.Config(hc)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", cfgPath, archName, err)
	}
	m, err := NewModel(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	src := &source{file: dir, tensors: set.Tensors, release: set.Release, alias: arch.Aliases, allowNonfinite: opts.AllowNonfinite}
	if err := fill(m, arch.Pieces(m.Config), src, arch.Ignored, "check that config.json belongs to these weights"); err != nil {
		return nil, err
	}
	if err := checkTiedHead(m, set, dir); err != nil {
		return nil, err
	}
	if tok == "" {
		tok = dir
	}
	if m.Tokenizer, err = loadTokenizer(tok, m.Config.VocabSize); err != nil {
		return nil, err
	}
	m.Name, m.Source = filepath.Base(filepath.Clean(dir)), dir
	return m, nil
}

// checkTiedHead refuses a file that stores an lm_head.weight different from the embeddings
// while config.json says they are tied: dropping it silently would change the model.
func checkTiedHead(m *Model, set *safetensors.Set, dir string) error {
	t, ok := set.Tensors["lm_head.weight"]
	if !m.Config.Tied || !ok {
		return nil
	}
	var scratch []float32
	head, err := decode(t, &scratch)
	wte := m.Params["wte"]
	if err != nil || len(head) != len(wte) {
		return fmt.Errorf("%s: lm_head.weight %s %v next to tied embeddings %v; set tie_word_embeddings to false in config.json if the head is separate", dir, t.DType, t.Shape, paramDims(m.Config)["wte"])
	}
	for i, v := range head {
		if v != wte[i] && !(t.DType != "F32" && math.Abs(float64(v-wte[i])) <= math.Abs(float64(v))/64) {
			return fmt.Errorf("%s: lm_head.weight differs from the embeddings at element %d although config.json ties them; set tie_word_embeddings to false", dir, i)
		}
	}
	return nil
}

// loadTokenizer reads a tokenizer in any format and checks it fits a vocabulary of vocab ids
// (models may pad their embedding table past the tokenizer's last id, never the reverse).
func loadTokenizer(path string, vocab int) (tokenizer.Tokenizer, error) {
	t, err := tokenizer.LoadAny(path)
	if err != nil {
		return nil, fmt.Errorf("%w (give the tokenizer with --tokenizer)", err)
	}
	if t.VocabSize() > vocab {
		return nil, fmt.Errorf("tokenizer %s has %d ids but the model's vocabulary is %d; it belongs to another model", path, t.VocabSize(), vocab)
	}
	return t, nil
}

// ExportOptions control ExportHF.
type ExportOptions struct {
	// Architecture is the Hugging Face name to export as; "" picks one that fits (ForConfig).
	Architecture string
	// DType of the written weights: "F32" (default, lossless) or "BF16" (half the size,
	// rounded to nearest even; what most Hugging Face checkpoints hold).
	DType string
	// ShardBytes splits the weights into model-0000i-of-0000n.safetensors files of at most
	// about this many bytes plus an index; 0 writes one model.safetensors.
	ShardBytes int64
}

// ExportHF writes m as a Hugging Face folder that transformers' from_pretrained loads:
// config.json, model.safetensors (float32, metadata format=pt) or shards with an index,
// tokenizer.json and generation_config.json. Tensors are written one at a time.
func ExportHF(m *Model, dir string, opts ExportOptions) error {
	var arch Architecture
	var err error
	if opts.Architecture != "" {
		arch, err = Lookup(opts.Architecture)
	} else {
		arch, err = ForConfig(m.Config)
	}
	if err != nil {
		return err
	}
	hc, err := arch.HFConfig(m.Config)
	if err != nil {
		return fmt.Errorf("exporting as %s: %w", arch.Name(), err)
	}
	gen := map[string]any{"_from_model_config": true}
	if m.Tokenizer != nil {
		if eot := m.Tokenizer.EOT(); eot >= 0 {
			hc["eos_token_id"], gen["eos_token_id"] = eot, eot
		}
		if b, ok := m.Tokenizer.(interface{ BOS() int }); ok && b.BOS() >= 0 {
			hc["bos_token_id"], gen["bos_token_id"] = b.BOS(), b.BOS()
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pieces := arch.Pieces(m.Config)
	if err := checkPieces(m.Config, pieces); err != nil {
		return err
	}
	for _, p := range pieces {
		if len(m.Params[p.Dst]) == 0 {
			return fmt.Errorf("exporting: parameter %s is missing", p.Dst)
		}
	}
	dtype, width := "F32", int64(4)
	switch opts.DType {
	case "", "F32":
	case "BF16":
		dtype, width = "BF16", 2
	default:
		return fmt.Errorf("export dtype %q: want F32 or BF16", opts.DType)
	}
	hc["torch_dtype"] = map[string]string{"F32": "float32", "BF16": "bfloat16"}[dtype]
	shards := [][]Piece{pieces}
	if opts.ShardBytes > 0 {
		shards = splitShards(pieces, opts.ShardBytes, width)
	}
	weightMap := map[string]string{}
	var total int64
	for i, sh := range shards {
		name := "model.safetensors"
		if len(shards) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		}
		byName := map[string]Piece{}
		var infos []safetensors.Info
		for _, p := range sh {
			byName[p.Src] = p
			infos = append(infos, safetensors.Info{Name: p.Src, DType: dtype, Shape: p.Dims})
			weightMap[p.Src] = name
			total += width * int64(p.size())
		}
		var buf []float32
		var half []byte
		err := safetensors.WriteStreamFile(filepath.Join(dir, name), infos, map[string]string{"format": "pt"}, func(n string) ([]byte, error) {
			buf = extract(m, byName[n], buf)
			if dtype == "BF16" {
				half = toBF16(buf, half)
				return half, nil
			}
			return leBytes(buf), nil
		})
		if err != nil {
			return err
		}
	}
	if len(shards) > 1 {
		idx := safetensors.Index{Metadata: map[string]any{"total_size": total}, WeightMap: weightMap}
		if err := writeJSON(filepath.Join(dir, safetensors.IndexFile), idx); err != nil {
			return err
		}
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), hc); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "generation_config.json"), gen); err != nil {
		return err
	}
	if m.Tokenizer != nil {
		if err := tokenizer.Save(m.Tokenizer, filepath.Join(dir, "tokenizer.json")); err != nil {
			return err
		}
	}
	return nil
}

// splitShards groups pieces in order into shards of at most limit bytes (a larger tensor gets its own).
func splitShards(pieces []Piece, limit, width int64) [][]Piece {
	var out [][]Piece
	var cur []Piece
	var size int64
	for _, p := range pieces {
		b := width * int64(p.size())
		if len(cur) > 0 && size+b > limit {
			out, cur, size = append(out, cur), nil, 0
		}
		cur, size = append(cur, p), size+b
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// leBytes views float32s as little-endian bytes (a copy on big-endian hosts).
func leBytes(v []float32) []byte {
	if littleEndian && len(v) > 0 {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
	return f32bytes(v)
}

// toBF16 rounds float32s to bfloat16 (nearest even; NaN stays NaN) into buf.
func toBF16(v []float32, buf []byte) []byte {
	if cap(buf) < 2*len(v) {
		buf = make([]byte, 2*len(v))
	}
	buf = buf[:2*len(v)]
	for i, f := range v {
		u := math.Float32bits(f)
		if f != f {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(u>>16)|0x40)
			continue
		}
		u += 0x7fff + (u>>16)&1
		binary.LittleEndian.PutUint16(buf[2*i:], uint16(u>>16))
	}
	return buf
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// readBounded reads a small file, refusing one larger than limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	return os.ReadFile(path)
}
