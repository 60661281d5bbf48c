package convert

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/safetensors"
)

// copyDir copies an HF test folder so a test can damage it.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	var m map[string]any
	json.Unmarshal(b, &m)
	edit(m)
	b, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

func editWeights(t *testing.T, dir string, edit func(map[string]safetensors.Tensor)) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(f.Tensors)
	if err := safetensors.WriteFile(path, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestHFMalformed(t *testing.T) {
	t.Run("config shape", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editConfig(t, d, func(m map[string]any) { m["n_embd"] = 64 })
		_, err := ImportHF(d, "")
		wantErr(t, err, "wte.weight", "[257 32]", "[257 64]")
	})
	t.Run("unknown architecture", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editConfig(t, d, func(m map[string]any) { m["architectures"] = []string{"BertModel"} })
		_, err := ImportHF(d, "")
		wantErr(t, err, "BertModel", "not supported", "GPT2LMHeadModel")
	})
	t.Run("missing tensor", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editWeights(t, d, func(m map[string]safetensors.Tensor) { delete(m, "h.1.mlp.c_fc.bias") })
		_, err := ImportHF(d, "")
		wantErr(t, err, "transformer.h.1.mlp.c_fc.bias", "missing")
	})
	t.Run("extra tensor", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editWeights(t, d, func(m map[string]safetensors.Tensor) { m["h.2.ln_1.weight"] = safetensors.F32(make([]float32, 32), 32) })
		_, err := ImportHF(d, "")
		wantErr(t, err, "h.2.ln_1.weight", "not part of")
	})
	t.Run("integer weights", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editWeights(t, d, func(m map[string]safetensors.Tensor) {
			x := m["ln_f.bias"]
			m["ln_f.bias"] = safetensors.Tensor{DType: "I32", Shape: x.Shape, Data: x.Data}
		})
		_, err := ImportHF(d, "")
		wantErr(t, err, "ln_f.bias", "F32, F16 and BF16")
	})
	t.Run("truncated weights", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		p := filepath.Join(d, "model.safetensors")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-100], 0o644)
		_, err := ImportHF(d, "")
		wantErr(t, err, "model.safetensors", "outside")
	})
	t.Run("rope scaling", func(t *testing.T) {
		d := copyDir(t, llamaTiny)
		editConfig(t, d, func(m map[string]any) { m["rope_scaling"] = map[string]any{"type": "linear", "factor": 2} })
		_, err := ImportHF(d, "")
		wantErr(t, err, "config.json", "rope_scaling")
	})
	t.Run("bad config value", func(t *testing.T) {
		d := copyDir(t, llamaTiny)
		editConfig(t, d, func(m map[string]any) { m["num_hidden_layers"] = "two" })
		_, err := ImportHF(d, "")
		wantErr(t, err, "config.json", "num_hidden_layers")
	})
	t.Run("shard outside folder", func(t *testing.T) {
		d := copyDir(t, llamaTiny)
		p := filepath.Join(d, safetensors.IndexFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), `"model-00002-of-00002`, `"../model-00002-of-00002`, 1)), 0o644)
		_, err := ImportHF(d, "")
		wantErr(t, err, "not a file name in the same folder")
	})
	t.Run("tied head differs", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editWeights(t, d, func(m map[string]safetensors.Tensor) {
			m["lm_head.weight"] = safetensors.F32(make([]float32, 257*32), 257, 32)
		})
		_, err := ImportHF(d, "")
		wantErr(t, err, "lm_head.weight differs", "tie_word_embeddings")
	})
	t.Run("tied head equal", func(t *testing.T) {
		d := copyDir(t, gpt2Tiny)
		editWeights(t, d, func(m map[string]safetensors.Tensor) { m["lm_head.weight"] = m["wte.weight"] })
		if _, err := ImportHF(d, ""); err != nil {
			t.Error(err)
		}
	})
	t.Run("tokenizer too big", func(t *testing.T) {
		_, err := ImportHF(gpt2Tiny, filepath.Join(llamaTiny, "tokenizer.json"))
		wantErr(t, err, "512 ids", "257")
	})
}

// Half-precision checkpoints import (converted to float32).
func TestHFBFloat16(t *testing.T) {
	d := copyDir(t, gpt2Tiny)
	editWeights(t, d, func(m map[string]safetensors.Tensor) {
		for name, x := range m {
			if x.DType != "F32" {
				continue
			}
			v, _ := x.Float32s()
			b := make([]byte, 2*len(v))
			for i, f := range v {
				binary.LittleEndian.PutUint16(b[2*i:], uint16(math.Float32bits(f)>>16))
			}
			m[name] = safetensors.Tensor{DType: "BF16", Shape: x.Shape, Data: b}
		}
	})
	half, err := ImportHF(d, "")
	if err != nil {
		t.Fatal(err)
	}
	full, err := ImportHF(gpt2Tiny, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range full.Params {
		for i, x := range v {
			if y := half.Params[name][i]; math.Abs(float64(x-y)) > math.Abs(float64(x))/64 {
				t.Fatalf("%s[%d]: bf16 %g, f32 %g", name, i, y, x)
			}
		}
	}
}

func TestLlama2CMalformed(t *testing.T) {
	orig, err := os.ReadFile(aidreams)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "m.bin")
		os.WriteFile(p, b, 0o644)
		return p
	}
	header := func(vals ...int32) []byte {
		b := make([]byte, len(orig))
		copy(b, orig)
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b
	}
	_, err = ImportLlama2C(write(orig[:len(orig)-4]), tok512)
	wantErr(t, err, "m.bin", "truncated")
	_, err = ImportLlama2C(write(orig[:10]), tok512)
	wantErr(t, err, "too short")
	_, err = ImportLlama2C(write(header(64, 172, 4, 4, 4, 512, 256)), tok512) // seq_len changed
	wantErr(t, err, "seq_len=256", "needs")
	_, err = ImportLlama2C(write(header(1<<18, 1<<18, 1<<18, 4, 4, 512, 128)), tok512) // a 2^57-byte model
	wantErr(t, err, "needs")
	_, err = ImportLlama2C(write(header(64, 172, -4, 4, 4, 512, 128)), tok512)
	wantErr(t, err, "not a llama2.c checkpoint")
	_, err = ImportLlama2C(write(header(64, 172, 4, 3, 3, 512, 128)), tok512)
	wantErr(t, err, "even heads")
	v2 := header(0x616b3432, 2)
	_, err = ImportLlama2C(write(v2), tok512)
	wantErr(t, err, "version 2")
	_, err = ImportLlama2C(aidreams, filepath.Join(gpt2Tiny, "tokenizer.json")) // 257 ids fit in 512: allowed
	if err != nil {
		t.Errorf("smaller tokenizer: %v", err)
	}
	_, err = ImportLlama2C(aidreams, filepath.Join(t.TempDir(), "none.bin"))
	wantErr(t, err, "--tokenizer")
}

// Export refuses models the target format cannot express.
func TestExportRefusesMismatch(t *testing.T) {
	m, err := ImportHF(gpt2Tiny, "")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, ExportLlama2C(m, filepath.Join(t.TempDir(), "x.bin")), "rope")
	wantErr(t, ExportHF(m, t.TempDir(), ExportOptions{Architecture: "LlamaForCausalLM"}), "LlamaForCausalLM", "rope")
	l, err := ImportHF(llamaTiny, "")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, ExportLlama2C(l, filepath.Join(t.TempDir(), "x.bin")), "1e-5")
}

// ExportHF with DType BF16 writes half-size weights that import within bfloat16 rounding.
func TestExportBF16(t *testing.T) {
	m, err := ImportHF(llamaTiny, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ExportHF(m, dir, ExportOptions{DType: "BF16"}); err != nil {
		t.Fatal(err)
	}
	back, err := ImportHF(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range m.Params {
		for i, x := range v {
			if y := back.Params[name][i]; math.Abs(float64(x-y)) > math.Abs(float64(x))/256 {
				t.Fatalf("%s[%d]: %g became %g", name, i, x, y)
			}
		}
	}
	cj, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || !strings.Contains(string(cj), `"torch_dtype": "bfloat16"`) {
		t.Errorf("config.json of a BF16 export: %v\n%s", err, cj)
	}
	wantErr(t, ExportHF(m, dir, ExportOptions{DType: "F8"}), "F8")
}

// A weight that is NaN or Inf fails the import, naming the file and tensor, unless allowed.
func TestImportRefusesNonfinite(t *testing.T) {
	d := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json"} {
		b, err := os.ReadFile(filepath.Join(gpt2Tiny, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, f), b, 0o644)
	}
	st, err := safetensors.ReadFile(filepath.Join(gpt2Tiny, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var infos []safetensors.Info
	for name, tn := range st.Tensors {
		infos = append(infos, safetensors.Info{Name: name, DType: tn.DType, Shape: tn.Shape})
	}
	err = safetensors.WriteStreamFile(filepath.Join(d, "model.safetensors"), infos, nil, func(name string) ([]byte, error) {
		b := append([]byte(nil), st.Tensors[name].Data...)
		if name == "h.1.mlp.c_fc.weight" {
			binary.LittleEndian.PutUint32(b[8:], math.Float32bits(float32(math.NaN())))
		}
		return b, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(d, "")
	wantErr(t, err, "h.1.mlp.c_fc.weight", "element 2", "NaN", "--allow-nonfinite")
	if _, err := ImportWith(d, ImportOptions{AllowNonfinite: true}); err != nil {
		t.Errorf("--allow-nonfinite: %v", err)
	}
}

func TestWithSeqLen(t *testing.T) {
	m, err := ImportHF(gpt2Tiny, "")
	if err != nil {
		t.Fatal(err)
	}
	short, err := m.WithSeqLen(8)
	if err != nil {
		t.Fatal(err)
	}
	if short.Config.SeqLen != 8 || len(short.Params["wpe"]) != 8*32 || short.Params["wpe"][8*32-1] != m.Params["wpe"][8*32-1] {
		t.Errorf("wpe not cut to its first 8 rows")
	}
	if _, err := m.WithSeqLen(64); err == nil {
		t.Error("lengthening a learned-position model accepted")
	}
}
