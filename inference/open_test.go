package inference_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
)

// tiny saves a one-layer byte-level model with distinct weights as a run folder.
func tiny(t *testing.T) (*convert.Model, string) {
	m, err := convert.NewModel(transformer.Config{VocabSize: 257, SeqLen: 16, Layers: 1, Width: 16, Heads: 2, Bias: true, Tied: true})
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, p := range m.Config.ParamShapes() {
		for j := range m.Params[p.Name] {
			m.Params[p.Name][j] = float32(i%97) / 97
			i++
		}
	}
	m.Tokenizer = tokenizer.NewByte()
	dir := t.TempDir()
	if _, err := convert.Save(m, dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// resave copies a checkpoint into a new run folder with one file changed (nil removes it).
func resave(t *testing.T, dir, name string, b []byte) string {
	ck, err := checkpoint.Resolve(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range []string{checkpoint.ModelFile, checkpoint.ConfigFile, checkpoint.TokenizerFile, checkpoint.StateFile} {
		if files[f], err = checkpoint.Read(ck, f); err != nil {
			t.Fatal(err)
		}
	}
	files[name] = b
	if b == nil {
		delete(files, name)
	}
	out := t.TempDir()
	if _, err := (&checkpoint.Manager{Dir: out}).Save(0, files); err != nil {
		t.Fatal(err)
	}
	return out
}

// Open gives every parameter of model.safetensors, bit for bit, under config.yaml's model,
// with the tokenizer; damaged checkpoints are refused naming the file and what is wrong.
func TestOpen(t *testing.T) {
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	want, dir := tiny(t)
	m, err := inference.Open(backend, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Cfg != want.Config || m.Tok.VocabSize() != 257 || m.Adapter != nil || filepath.Base(m.Dir) != checkpoint.Name(0) {
		t.Fatalf("opened %+v (%d ids, adapter %v) from %s", m.Cfg, m.Tok.VocabSize(), m.Adapter, m.Dir)
	}
	n := 0
	for v := range m.Store.IterVariables() {
		name := strings.TrimPrefix(v.Path(), "/model/")
		got := tensors.MustCopyFlatData[float32](must(v.Value()))
		if !slices.Equal(got, want.Params[name]) {
			t.Errorf("%s differs from the saved parameter", name)
		}
		n++
	}
	if n != len(want.Params) {
		t.Errorf("%d variables, want %d parameters", n, len(want.Params))
	}

	mf := must(checkpoint.Read(must(checkpoint.Resolve(dir)), checkpoint.ModelFile))
	f := must(safetensors.Parse(mf))
	delete(f.Tensors, "wte")
	var short bytes.Buffer
	if err := safetensors.Write(&short, f.Tensors, nil); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		file string
		b    []byte
		want string
	}{
		"missing parameter": {checkpoint.ModelFile, short.Bytes(), "model.safetensors: missing parameter wte"},
		"no tokenizer":      {checkpoint.TokenizerFile, nil, "has no tokenizer.json"},
		"bad config":        {checkpoint.ConfigFile, []byte("model:\n  widht: 3\n"), "config.yaml:2: model.widht: unknown key"},
	} {
		if _, err := inference.Open(backend, resave(t, dir, c.file, c.b), ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
	if _, err := inference.Open(backend, dir, dir); err == nil || !strings.Contains(err.Error(), "has no adapter.safetensors") {
		t.Errorf("a plain checkpoint as adapter: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
