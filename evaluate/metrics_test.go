package evaluate

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestChoiceScoresByHand(t *testing.T) {
	// Choice 0 has the highest total log-likelihood; per character choice 1 wins:
	// -2/1 = -2, -3/10 = -0.3, -4/4 = -1.
	lls := []float64{-2, -3, -4}
	acc, norm, _, _ := ChoiceScores(lls, []string{"a", "abcdefghij", "abcd"}, 1, 0)
	if acc != 0 || norm != 1 {
		t.Errorf("acc %v acc_norm %v, want 0 and 1", acc, norm)
	}
	// Characters vs bytes: "éé" is 2 characters, 4 bytes. -1.0 on it is -0.5 per character
	// and -0.25 per byte, both better than -0.6 on "x".
	_, norm, byByte, _ := ChoiceScores([]float64{-0.6, -1.0}, []string{"x", "éé"}, 1, 0)
	if norm != 1 || byByte != 1 {
		t.Errorf("acc_norm %v acc_bytes %v", norm, byByte)
	}
	_, norm, byByte, _ = ChoiceScores([]float64{-0.3, -1.0}, []string{"x", "éé"}, 1, 0)
	// per char: -0.3 vs -0.5 -> 0; per byte: -0.3 vs -0.25 -> 1
	if norm != 0 || byByte != 1 {
		t.Errorf("acc_norm %v acc_bytes %v, want 0 and 1", norm, byByte)
	}
}

func TestMC2ByHand(t *testing.T) {
	// p = (0.5, 0.25, 0.125, 0.125) unnormalised (sum 1): two true -> 0.75.
	lls := []float64{math.Log(0.5), math.Log(0.25), math.Log(0.125), math.Log(0.125)}
	if v := MC2(lls, 2); !near(v, 0.75) {
		t.Errorf("MC2 %v, want 0.75", v)
	}
	// Unnormalised: p = (0.1, 0.1, 0.2) -> true mass 0.2/0.4 = 0.5; large negative lls too.
	lls = []float64{math.Log(0.1) - 500, math.Log(0.1) - 500, math.Log(0.2) - 500}
	if v := MC2(lls, 2); !near(v, 0.5) {
		t.Errorf("MC2 %v, want 0.5", v)
	}
}

func TestStderrByHand(t *testing.T) {
	// acc values 1,0,1,1: mean 0.75, sample sd sqrt(0.25*... ) = sqrt(((.25²)*3+.75²)/3) = 0.5,
	// stderr 0.5/2 = 0.25 (lm-eval's mean_stderr).
	m, se := Mean([]float64{1, 0, 1, 1})
	if !near(m, 0.75) || !near(se, 0.25) {
		t.Errorf("mean %v stderr %v, want 0.75 and 0.25", m, se)
	}
	// Bootstrap of the mean approaches the population sd / sqrt(n): for {0, 1} x 50, sd 0.5,
	// so ~0.5/sqrt(100) = 0.05.
	x := make([]float64, 100)
	for i := range x {
		x[i] = float64(i % 2)
	}
	mean := func(v []float64) float64 { m, _ := Mean(v); return m }
	if se := Bootstrap(mean, x, 4000, 1); math.Abs(se-0.05) > 0.005 {
		t.Errorf("bootstrap stderr %v, want ~0.05", se)
	}
	// perplexity = exp(-mean ll); bits per byte = -Σll/Σbytes/ln 2.
	if p := Perplexity([]float64{-1, -3}); !near(p, math.Exp(2)) {
		t.Errorf("perplexity %v", p)
	}
	if b := -Weighted([]float64{-2, -4}, []float64{1, 2}) / math.Ln2; !near(b, 2/math.Ln2) {
		t.Errorf("bits per byte %v", b)
	}
	if n := CountWords("a  b\nc"); n != 3 {
		t.Errorf("words %d", n)
	}
}

func TestExtractAndExactMatch(t *testing.T) {
	tasks, err := LoadTasks(tasksDir, []string{"gsm8k"})
	if err != nil {
		t.Fatal(err)
	}
	g := tasks[0]
	ref := "She has 3 + 4 = <<3+4=7>>7 apples.\n#### 1,007"
	out := "So 1000 + 7 = 1,007 apples.\n#### 1,007.\n\nQuestion"
	if got := g.Extract[0].Apply(out); got != "1,007." {
		t.Errorf("strict-match %q", got)
	}
	if got := g.Extract[1].Apply("it is $1,007 in the end"); got != "$1,007" {
		t.Errorf("flexible-extract %q", got)
	}
	if got := g.Extract[0].Apply("no answer"); got != "[invalid]" {
		t.Errorf("fallback %q", got)
	}
	if !g.ExactMatch.Match(g.Extract[0].Apply(out), ref) || !g.ExactMatch.Match("$1,007", ref) || g.ExactMatch.Match("1008", ref) {
		t.Errorf("exact_match after regexes_to_ignore")
	}
}
