package bench

import "math/rand/v2"

// RandomTokens returns n token ids drawn uniformly from [0, vocab) by r: the fixed batches
// the training benchmarks feed ([B*(T+1)] int32 for a batch of B rows of T+1 tokens).
func RandomTokens(r *rand.Rand, n, vocab int) []int32 {
	x := make([]int32, n)
	for i := range x {
		x[i] = int32(r.IntN(vocab))
	}
	return x
}
