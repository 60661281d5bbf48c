package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/safetensors"
)

var (
	backendOnce sync.Once
	testBackend compute.Backend
	lmCache     = map[string]LM{}
	lmMu        sync.Mutex
)

func backend(t testing.TB) compute.Backend {
	backendOnce.Do(func() {
		b, err := backends.New("go")
		if err != nil {
			t.Fatal(err)
		}
		testBackend = b
	})
	return testBackend
}

// importedLM imports a Hugging Face folder of testdata/models (random weights written by
// make_hf_reference.py, with PyTorch's logits beside them) as a golem checkpoint and loads it.
func importedLM(t testing.TB, name string) LM {
	lmMu.Lock()
	defer lmMu.Unlock()
	if lm, ok := lmCache[name]; ok {
		return lm
	}
	m, err := convert.ImportHF(filepath.Join("..", "testdata", "models", name), "")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "golem-eval-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ckpt, err := convert.Save(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := inference.Open(backend(t), ckpt, "")
	if err != nil {
		t.Fatal(err)
	}
	lm := LM{Backend: backend(t), Store: im.Store, Cfg: im.Cfg, Weights: im.Weights, Tok: im.Tok}
	lmCache[name] = lm
	return lm
}

// referenceLogProb is the straightforward computation: one unbatched forward pass per
// position over the whole window, then a float64 log-softmax.
func referenceLogProb(t *testing.T, lm LM, ctx, cont []int) float64 {
	g, err := generate.New(lm.Backend, lm.Store, lm.Cfg, lm.Weights)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]int{}, ctx...), cont...)
	sum := 0.0
	for i := len(ctx); i < len(all); i++ {
		logits, err := g.Logits(all[:i])
		if err != nil {
			t.Fatal(err)
		}
		sum += logSoftmax(logits, all[i])
	}
	return sum
}

func logSoftmax(logits []float32, target int) float64 {
	m := math.Inf(-1)
	for _, l := range logits {
		m = math.Max(m, float64(l))
	}
	z := 0.0
	for _, l := range logits {
		z += math.Exp(float64(l) - m)
	}
	return float64(logits[target]) - m - math.Log(z)
}

func TestLoglikelihoodMatchesReference(t *testing.T) {
	for _, name := range []string{"hf-gpt2-tiny", "hf-llama-tiny"} {
		lm := importedLM(t, name)
		s, err := NewScorer(lm, 3)
		if err != nil {
			t.Fatal(err)
		}
		pairs := [][2]string{{"Question: what is", " water?"}, {"ab", "c"}, {"", "hello"}, {"The cat sat on the ", "mat"}, {"x", " a longer continuation here"}}
		res, err := s.Loglikelihood(pairs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pairs {
			r := s.Encode(p[0], p[1])
			want := referenceLogProb(t, lm, r.Context, r.Continuation)
			if math.Abs(res[i].LogProb-want) > 1e-4 {
				t.Errorf("%s %q: log p %.6f, reference %.6f", name, p, res[i].LogProb, want)
			}
			if res[i].Tokens != len(r.Continuation) {
				t.Errorf("%s %q: %d tokens scored, want %d", name, p, res[i].Tokens, len(r.Continuation))
			}
		}
	}
}

// TestLoglikelihoodMatchesPyTorch scores the reference token sequence against the log-softmax of
// the logits PyTorch computed for it (testdata/models/make_hf_reference.py).
func TestLoglikelihoodMatchesPyTorch(t *testing.T) {
	for _, name := range []string{"hf-gpt2-tiny", "hf-llama-tiny"} {
		lm := importedLM(t, name)
		ref, err := safetensors.ReadFile(filepath.Join("..", "testdata", "models", name, "reference.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		tokT := ref.Tensors["tokens"]
		var ids []int
		for i := 0; i < len(tokT.Data); i += 8 {
			ids = append(ids, int(uint32(tokT.Data[i])|uint32(tokT.Data[i+1])<<8|uint32(tokT.Data[i+2])<<16|uint32(tokT.Data[i+3])<<24))
		}
		logits, _ := ref.Tensors["logits"].Float32s()
		V := lm.Cfg.VocabSize
		s, err := NewScorer(lm, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, split := range []int{1, 5, 20, len(ids) - 1} {
			want := 0.0
			for pos := split - 1; pos < len(ids)-1; pos++ {
				want += logSoftmax(logits[pos*V:(pos+1)*V], ids[pos+1])
			}
			res, err := s.LoglikelihoodTokens([]TokenRequest{{Context: ids[:split], Continuation: ids[split:]}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res[0].LogProb-want) > 1e-4 {
				t.Errorf("%s split %d: log p %.6f, PyTorch %.6f", name, split, res[0].LogProb, want)
			}
		}
	}
}

func TestScoreIndependentOfBatch(t *testing.T) {
	lm := importedLM(t, "hf-gpt2-tiny")
	pairs := [][2]string{{"a", "b"}, {"Question: a long context that pads others", " yes"}, {"Answer:", " no"}, {"zz", " the end of it"}, {"q", "r"}}
	var first []Result
	for _, bs := range []int{1, 2, 4, 7} {
		s, err := NewScorer(lm, bs)
		if err != nil {
			t.Fatal(err)
		}
		// Each choice alone, and among neighbours of other lengths.
		res, err := s.Loglikelihood(pairs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			for i, p := range pairs {
				alone, err := s.Loglikelihood([][2]string{p}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(alone[0].LogProb-res[i].LogProb) > 1e-5 {
					t.Errorf("%q alone %.7f, in a batch %.7f", p, alone[0].LogProb, res[i].LogProb)
				}
			}
			continue
		}
		for i := range res {
			if math.Abs(res[i].LogProb-first[i].LogProb) > 1e-5 || res[i].Greedy != first[i].Greedy {
				t.Errorf("batch size %d, %q: %.7f %v vs %.7f %v at batch size 1", bs, pairs[i], res[i].LogProb, res[i].Greedy, first[i].LogProb, first[i].Greedy)
			}
		}
	}
}

func TestRollingWindows(t *testing.T) {
	ids := make([]int, 10)
	for i := range ids {
		ids[i] = i + 1
	}
	// lm-eval's get_rolling_token_windows([1..10], prefix=-1, max_seq_len=4, context_len=1)
	// followed by make_disjoint_window.
	want := []TokenRequest{
		{Context: []int{-1}, Continuation: []int{1, 2, 3, 4}},
		{Context: []int{4}, Continuation: []int{5, 6, 7, 8}},
		{Context: []int{6, 7, 8}, Continuation: []int{9, 10}},
	}
	got := RollingWindows(ids, -1, 4)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if !equal(got[i].Context, want[i].Context) || !equal(got[i].Continuation, want[i].Continuation) {
			t.Errorf("window %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRollingEqualsOnePass: a document that fits one window scores as one pass from the
// prefix; a longer one sums windows that each predict new tokens only.
func TestRollingLoglikelihood(t *testing.T) {
	lm := importedLM(t, "hf-gpt2-tiny")
	s, err := NewScorer(lm, 4)
	if err != nil {
		t.Fatal(err)
	}
	short := "to be or not"
	long := "It was the best of times, it was the worst of times, it was the age of wisdom."
	res, err := s.LoglikelihoodRolling([]string{short, long}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := lm.Tok.Encode(short)
	want := referenceLogProb(t, lm, []int{s.prefixToken()}, ids)
	if math.Abs(res[0].LogProb-want) > 1e-4 || res[0].Tokens != len(ids) {
		t.Errorf("short: %.6f over %d tokens, want %.6f over %d", res[0].LogProb, res[0].Tokens, want, len(ids))
	}
	lids := lm.Tok.Encode(long)
	if res[1].Tokens != len(lids) {
		t.Errorf("long: %d tokens predicted, want each of %d once", res[1].Tokens, len(lids))
	}
	want = 0
	for _, w := range RollingWindows(lids, s.prefixToken(), lm.Cfg.SeqLen) {
		want += referenceLogProb(t, lm, w.Context, w.Continuation)
	}
	if math.Abs(res[1].LogProb-want) > 1e-4 {
		t.Errorf("long: %.6f, want %.6f", res[1].LogProb, want)
	}
}

func TestTooLongContinuationSkipped(t *testing.T) {
	lm := importedLM(t, "hf-gpt2-tiny")
	s, err := NewScorer(lm, 2)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, lm.Cfg.SeqLen+1)
	res, err := s.LoglikelihoodTokens([]TokenRequest{{Context: []int{1}, Continuation: long}, {Context: long, Continuation: []int{2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Skipped || res[1].Skipped || !res[1].Truncated {
		t.Errorf("skipped/truncated flags: %+v", res)
	}
}

func TestGenerateUntil(t *testing.T) {
	lm := importedLM(t, "hf-gpt2-tiny")
	s, err := NewScorer(lm, 2)
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.GenerateUntil([]GenRequest{{Context: "abc", MaxTokens: 20}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(full[0]) == 0 {
		t.Fatal("nothing generated")
	}
	stop := full[0][len(full[0])/2:]
	cut, err := s.GenerateUntil([]GenRequest{{Context: "abc", MaxTokens: 20, Until: []string{stop}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cutAtStop(full[0], []string{stop})
	if cut[0] != want {
		t.Errorf("with stop %q: %q, want %q", stop, cut[0], want)
	}
}
