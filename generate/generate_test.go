package generate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPick(t *testing.T) {
	logits := []float32{0.1, 2.5, -1, 2.4, 0}
	r := rand.New(rand.NewPCG(1, 2))
	if got := Pick(logits, Options{Temperature: 0}, r); got != 1 {
		t.Errorf("greedy picked %d, want 1", got)
	}
	for i := 0; i < 50; i++ {
		if got := Pick(logits, Options{Temperature: 1, TopK: 1}, r); got != 1 {
			t.Fatalf("top-k 1 picked %d, want 1", got)
		}
		if got := Pick(logits, Options{Temperature: 1, TopP: 0.01}, r); got != 1 {
			t.Fatalf("top-p 0.01 picked %d, want 1", got)
		}
		if got := Pick(logits, Options{Temperature: 1, TopK: 2}, r); got != 1 && got != 3 {
			t.Fatalf("top-k 2 picked %d, want 1 or 3", got)
		}
	}
	// Temperature 1 sampling follows softmax(logits).
	counts := make([]float64, len(logits))
	const n = 20000
	for i := 0; i < n; i++ {
		counts[Pick(logits, Options{Temperature: 1}, r)]++
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for i, l := range logits {
		want := math.Exp(float64(l)) / z
		if math.Abs(counts[i]/n-want) > 0.02 {
			t.Errorf("token %d sampled with frequency %.3f, softmax gives %.3f", i, counts[i]/n, want)
		}
	}
	// Same seed, same choices.
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 100; i++ {
		if Pick(logits, Options{Temperature: 0.8, TopK: 4}, a) != Pick(logits, Options{Temperature: 0.8, TopK: 4}, b) {
			t.Fatal("sampling is not reproducible for a fixed seed")
		}
	}
}
