package convert

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/golem-ml/golem/safetensors"
)

var (
	gpt2Tiny  = filepath.Join("..", "testdata", "models", "hf-gpt2-tiny")
	llamaTiny = filepath.Join("..", "testdata", "models", "hf-llama-tiny")
)

// checkReference imports an HF folder written by testdata/models/make_hf_reference.py,
// saves and restores it as a golem checkpoint, and compares golem's logits at every
// position with the PyTorch reference forward pass.
func checkReference(t *testing.T, dir string) *Model {
	m, err := ImportHF(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ckpt, err := Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.ReadFile(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tokT := ref.Tensors["tokens"]
	var ids []int
	for i := 0; i < len(tokT.Data); i += 8 {
		ids = append(ids, int(int64(uint64(tokT.Data[i])|uint64(tokT.Data[i+1])<<8|uint64(tokT.Data[i+2])<<16|uint64(tokT.Data[i+3])<<24)))
	}
	want, _ := ref.Tensors["logits"].Float32s()
	V := m.Config.VocabSize
	g := restore(t, ckpt, m)
	for pos := range ids {
		got, err := g.Logits(ids[:pos+1])
		if err != nil {
			t.Fatal(err)
		}
		closeLogits(t, filepath.Base(dir)+" position "+strconv.Itoa(pos), got, want[pos*V:(pos+1)*V])
	}
	return m
}

func TestGPT2MatchesReference(t *testing.T) {
	m := checkReference(t, gpt2Tiny)
	if m.Config.MLP != "gelu_tanh" || !m.Config.Tied || m.Config.Positions != "learned" {
		t.Errorf("config %+v", m.Config)
	}
}

func TestLlamaShardedMatchesReference(t *testing.T) {
	m := checkReference(t, llamaTiny)
	if m.Config.KVHeads != 2 || m.Config.Tied || m.Config.NormEps != 1e-6 {
		t.Errorf("config %+v", m.Config)
	}
}

// digests is the sha256 of every parameter's bytes.
func digests(m *Model) map[string][32]byte {
	out := map[string][32]byte{}
	for name, v := range m.Params {
		out[name] = sha256.Sum256(f32bytes(v))
	}
	return out
}

func sameDigests(t *testing.T, what string, a, b *Model) {
	t.Helper()
	da, db := digests(a), digests(b)
	if len(da) != len(db) {
		t.Fatalf("%s: %d vs %d tensors", what, len(da), len(db))
	}
	for name, d := range da {
		if db[name] != d {
			t.Errorf("%s: tensor %s changed", what, name)
		}
	}
	if a.Config != b.Config {
		t.Errorf("%s: config %+v became %+v", what, a.Config, b.Config)
	}
}

// Import, save, load, export, import again: every tensor is bit-identical.
func TestRoundTripsAreLossless(t *testing.T) {
	for _, c := range []struct {
		name   string
		load   func() (*Model, error)
		export func(m *Model, dir string) (*Model, error)
	}{
		{"gpt2 via HF", func() (*Model, error) { return ImportHF(gpt2Tiny, "") }, func(m *Model, dir string) (*Model, error) {
			if err := ExportHF(m, dir, ExportOptions{}); err != nil {
				return nil, err
			}
			return ImportHF(dir, "")
		}},
		{"llama via sharded HF", func() (*Model, error) { return ImportHF(llamaTiny, "") }, func(m *Model, dir string) (*Model, error) {
			if err := ExportHF(m, dir, ExportOptions{ShardBytes: 40 << 10}); err != nil {
				return nil, err
			}
			if _, err := os.Stat(filepath.Join(dir, safetensors.IndexFile)); err != nil {
				return nil, err
			}
			return ImportHF(dir, "")
		}},
		{"aidreams via llama2.c", func() (*Model, error) { return ImportLlama2C(aidreams, tok512) }, func(m *Model, dir string) (*Model, error) {
			bin := filepath.Join(dir, "model.bin")
			if err := ExportLlama2C(m, bin); err != nil {
				return nil, err
			}
			return ImportLlama2C(bin, tok512)
		}},
		{"llama via llama2.c", func() (*Model, error) { return ImportHF(llamaTiny, "") }, func(m *Model, dir string) (*Model, error) {
			m.Config.NormEps = 1e-5 // run.c's fixed eps; the tensors are what is compared
			bin := filepath.Join(dir, "model.bin")
			if err := ExportLlama2C(m, bin); err != nil {
				return nil, err
			}
			back, err := ImportLlama2C(bin, filepath.Join(llamaTiny, "tokenizer.json"))
			if back != nil {
				m.Config.NormEps, back.Config.NormEps = 1e-6, 1e-6
			}
			return back, err
		}},
		{"aidreams via HF", func() (*Model, error) { return ImportLlama2C(aidreams, tok512) }, func(m *Model, dir string) (*Model, error) {
			if err := ExportHF(m, dir, ExportOptions{}); err != nil {
				return nil, err
			}
			return ImportHF(dir, "")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig, err := c.load()
			if err != nil {
				t.Fatal(err)
			}
			ckpt, err := Save(orig, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(filepath.Dir(ckpt)) // the run folder: Load finds the latest step
			if err != nil {
				t.Fatal(err)
			}
			sameDigests(t, "save/load", orig, loaded)
			back, err := c.export(loaded, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			sameDigests(t, "export/import", orig, back)
		})
	}
}

// The llama2.c file golem writes for aidreams260K is byte-identical to the original.
func TestLlama2CExportIsByteIdentical(t *testing.T) {
	m, err := ImportLlama2C(aidreams, tok512)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.bin")
	if err := ExportLlama2C(m, out); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(aidreams)
	b, _ := os.ReadFile(out)
	if len(a) != len(b) {
		t.Fatalf("%d bytes, original %d", len(b), len(a))
	}
	// Weights must be identical; the RoPE tables (last, for a shared classifier) are
	// recomputed, equal up to the last bit of torch's float32 cos/sin.
	tables := 28 + 4*(233024-2048)
	for i := 0; i < tables; i++ {
		if a[i] != b[i] {
			t.Fatalf("byte %d differs", i)
		}
	}
	for i := tables; i < len(a); i += 4 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(a[i:]))
		y := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
		if math.Abs(float64(x-y)) > 1e-6 {
			t.Fatalf("RoPE table at byte %d: %g, original %g", i, y, x)
		}
	}
}
