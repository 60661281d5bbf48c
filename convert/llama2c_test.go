package convert

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
)

var (
	aidreams   = filepath.Join("..", "testdata", "models", "aidreams260K", "aidreams260K.bin")
	stories    = filepath.Join("..", "testdata", "models", "stories260K", "stories260K.bin")
	tok512     = filepath.Join("..", "testdata", "tokenizer", "tok512.bin")
	llama2Tok  = filepath.Join("..", "testdata", "tokenizer", "llama2", "tokenizer.bin")
	aidreamsGo = ` "Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes, a gentle hum of precision, as I adjust my surface. Contrast`
)

// restore opens a saved checkpoint the way the sample command does (inference.Open: config.yaml,
// tokenizer.json, model.safetensors) and compiles a generator over it.
func restore(t *testing.T, dir string, m *Model) *generate.Generator {
	t.Helper()
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	im, err := inference.Open(backend, filepath.Dir(dir), "") // the run folder: its newest checkpoint
	if err != nil {
		t.Fatalf("inference.Open(%s): %v", dir, err)
	}
	tok := im.Tok
	if im.Cfg != m.Config || tok.VocabSize() != m.Tokenizer.VocabSize() {
		t.Fatalf("restored config %+v / %d ids, imported %+v / %d", im.Cfg, tok.VocabSize(), m.Config, m.Tokenizer.VocabSize())
	}
	g, err := generate.New(backend, im.Store, im.Cfg, im.Weights)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// closeLogits fails when golem's logits differ from the reference by more than float32
// rounding accumulated over a few layers.
func closeLogits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	var worst float64
	for i := range got {
		d := math.Abs(float64(got[i]-want[i])) / (1 + math.Abs(float64(want[i])))
		worst = max(worst, d)
	}
	t.Logf("%s: worst relative logit difference %.2g", what, worst)
	if worst > 1e-4 {
		t.Errorf("%s: logits differ from the reference by up to %.2g (relative)", what, worst)
	}
}

// aidreams260K: greedy generation from BOS reproduces the published continuation token for
// token, and every step's logits match run.c's forward pass.
func TestAidreamsGreedy(t *testing.T) {
	m, err := ImportLlama2C(aidreams, tok512)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := restore(t, dir, m)
	ids, err := g.Generate([]int{1}, generate.Options{MaxTokens: 64, Temperature: 0, StopAt: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{319, 459, 355, 260, 275, 429, 339, 315, 374}
	for i, id := range want {
		if ids[i] != id {
			t.Fatalf("greedy ids %v, want prefix %v", ids, want)
		}
	}
	text := m.Tokenizer.Decode(ids)
	if !strings.HasPrefix(text, strings.TrimPrefix(aidreamsGo, " ")) { // Decode drops the dummy-prefix space
		t.Errorf("greedy text %q, want prefix %q", text, aidreamsGo)
	}
	ref := loadRunC(t, aidreams)
	seq := append([]int{1}, ids...)
	refLogits := ref.logits(seq)
	for pos := 0; pos < len(seq); pos += 7 {
		got, err := g.Logits(seq[:pos+1])
		if err != nil {
			t.Fatal(err)
		}
		closeLogits(t, "aidreams position "+strconv.Itoa(pos), got, refLogits[pos])
	}
}

// stories260K has grouped-query attention (8 query heads share 4 key/value heads) and a
// 512-token context: its logits must match the reference too. Its own tok512.bin is lost
// (shared/data/SOURCES.md); aidreams' 512-piece vocabulary stands in, and only ids are compared.
func TestStoriesGQALogits(t *testing.T) {
	m, err := ImportLlama2C(stories, tok512)
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Heads != 8 || m.Config.KVHeads != 4 {
		t.Fatalf("config %+v", m.Config)
	}
	dir, err := Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := restore(t, dir, m)
	ids, err := g.Generate([]int{1}, generate.Options{MaxTokens: 20, StopAt: -1})
	if err != nil {
		t.Fatal(err)
	}
	// A separate pure-Python forward pass (shared/data/SOURCES.md) gives these greedy ids.
	want := []int{461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264, 283, 452, 288, 13}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("greedy ids %v, want %v", ids, want)
		}
	}
	ref := loadRunC(t, stories)
	seq := append([]int{1}, ids...)
	refLogits := ref.logits(seq)
	for _, pos := range []int{0, 5, len(seq) - 1} {
		got, err := g.Logits(seq[:pos+1])
		if err != nil {
			t.Fatal(err)
		}
		closeLogits(t, "stories position "+strconv.Itoa(pos), got, refLogits[pos])
	}
}

// tok512.bin -> golem tokenizer -> tokenizer.bin is byte-identical to the original.
func TestLlama2CTokenizerExport(t *testing.T) {
	tok, err := loadTokenizer(tok512, 512)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tokenizer.bin")
	if err := ExportLlama2CTokenizer(tok, out); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(tok512)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("tokenizer.bin differs at byte %d of %d (length %d)", i, len(a), len(b))
			}
		}
		t.Fatalf("length %d, original %d", len(b), len(a))
	}
	gpt2Tok, err := loadTokenizer(filepath.Join(gpt2Tiny, "tokenizer.json"), 257)
	if err != nil {
		t.Fatal(err)
	}
	if err := ExportLlama2CTokenizer(gpt2Tok, out); err == nil {
		t.Error("a byte-level BPE exported as tokenizer.bin")
	}
}

// Greedy `sample` on the aidreams260K import writes exactly run.c's text (prompt included)
// for each prompt in testdata/models/aidreams260K/runc_greedy.json: BOS first, the prompt's
// dummy-prefix space handled, the continuation's leading spaces kept (decoded incrementally).
func TestAidreamsSampleMatchesRunC(t *testing.T) {
	m, err := ImportLlama2C(aidreams, tok512)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	im, err := inference.Open(backend, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := im.Tok
	e, err := generate.NewEngine(im.Generation())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "testdata", "models", "aidreams260K", "runc_greedy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Prompt, Text string
		Steps        int
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		ids := generate.PromptIDs(tok, c.Prompt)
		var out strings.Builder
		// run.c runs `steps` forward passes from BOS on, so it ends with steps+1 tokens; it stops only at a BOS.
		_, err := e.WriteSample(context.Background(), ids, generate.Params{MaxTokens: c.Steps + 1 - len(ids), StopIDs: []int{1}}, &out)
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != c.Text {
			t.Errorf("prompt %q:\n golem %q\n run.c %q", c.Prompt, out.String(), c.Text)
		}
	}
}
