package generate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Params are one request's sampling settings, named as in the OpenAI API and vLLM.
//
// Order of application (vLLM's): penalties, then temperature, then top-k, min-p and top-p,
// then the draw. Log-probabilities are those of the model's raw distribution (before
// penalties and temperature), as OpenAI and vLLM report them.
type Params struct {
	MaxTokens   int     // tokens to generate (0 = none); prompt + MaxTokens must fit the context
	Temperature float64 // 0 = greedy
	TopK        int     // keep the K most likely tokens; 0 = all
	TopP        float64 // keep the smallest set whose probability reaches P; 0 or 1 = all
	MinP        float64 // keep tokens with probability >= MinP x the top token's; 0 = off

	RepetitionPenalty float64 // > 1 discourages every token of prompt and output (HF/vLLM); 0 or 1 = off
	FrequencyPenalty  float64 // subtracted once per earlier occurrence in the output (OpenAI)
	PresencePenalty   float64 // subtracted once if the token occurs in the output (OpenAI)

	Stop    []string // stop when the text contains one of these (not included in the text)
	StopIDs []int    // stop at one of these ids (not included in the output)
	Seed    uint64   // same seed, same prompt, same params: same output, whatever else is batched

	LogProbs    bool // report each generated token's log-probability
	TopLogProbs int  // and the N most likely alternatives at each step
}

// Validate names the first impossible setting by its OpenAI field name.
func (p *Params) Validate() error {
	switch {
	case p.MaxTokens < 0:
		return fmt.Errorf("max_tokens: %d must be >= 0", p.MaxTokens)
	case p.Temperature < 0 || math.IsNaN(p.Temperature):
		return fmt.Errorf("temperature: %g must be >= 0", p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("top_k: %d must be >= 0 (0 = off)", p.TopK)
	case p.TopP < 0 || p.TopP > 1 || math.IsNaN(p.TopP):
		return fmt.Errorf("top_p: %g must be in [0, 1]", p.TopP)
	case p.MinP < 0 || p.MinP > 1 || math.IsNaN(p.MinP):
		return fmt.Errorf("min_p: %g must be in [0, 1]", p.MinP)
	case p.RepetitionPenalty < 0 || math.IsNaN(p.RepetitionPenalty):
		return fmt.Errorf("repetition_penalty: %g must be > 0 (1 = off)", p.RepetitionPenalty)
	case math.IsNaN(p.FrequencyPenalty) || math.Abs(p.FrequencyPenalty) > 2:
		return fmt.Errorf("frequency_penalty: %g must be in [-2, 2]", p.FrequencyPenalty)
	case math.IsNaN(p.PresencePenalty) || math.Abs(p.PresencePenalty) > 2:
		return fmt.Errorf("presence_penalty: %g must be in [-2, 2]", p.PresencePenalty)
	case p.TopLogProbs < 0 || p.TopLogProbs > 20:
		return fmt.Errorf("top_logprobs: %d must be in [0, 20]", p.TopLogProbs)
	}
	for i, s := range p.Stop {
		if s == "" {
			return fmt.Errorf("stop[%d]: empty stop string", i)
		}
	}
	return nil
}

// TokenLogProb is one token id and its log-probability.
type TokenLogProb struct {
	ID      int
	LogProb float64
}

// sampler picks one row's next tokens; it holds the row's RNG and the counts the penalties use.
type sampler struct {
	p      Params
	rng    *rand.Rand
	counts map[int]int  // output tokens so far
	seen   map[int]bool // prompt and output tokens (repetition penalty)
	work   []float64    // scratch [V]
	idx    []int        // scratch [V]
}

func newSampler(p Params, prompt []int, stream uint64) *sampler {
	s := &sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, stream))}
	if p.FrequencyPenalty != 0 || p.PresencePenalty != 0 {
		s.counts = map[int]int{}
	}
	if p.RepetitionPenalty > 0 && p.RepetitionPenalty != 1 {
		s.seen = map[int]bool{}
		for _, id := range prompt {
			s.seen[id] = true
		}
	}
	return s
}

// pick chooses the next id from logits [V] and, if asked, reports log-probabilities.
func (s *sampler) pick(logits []float32) (id int, lp float64, top []TokenLogProb) {
	p := &s.p
	penalized := s.counts != nil || s.seen != nil
	var l []float64
	if penalized || p.Temperature > 0 {
		if cap(s.work) < len(logits) {
			s.work = make([]float64, len(logits))
		}
		l = s.work[:len(logits)]
		for i, x := range logits {
			l[i] = float64(x)
		}
		for tok := range s.seen {
			if l[tok] > 0 {
				l[tok] /= p.RepetitionPenalty
			} else {
				l[tok] *= p.RepetitionPenalty
			}
		}
		for tok, n := range s.counts {
			l[tok] -= p.FrequencyPenalty*float64(n) + p.PresencePenalty
		}
	}
	switch {
	case p.Temperature <= 0 && !penalized:
		id = IndexOfMax(logits)
	case p.Temperature <= 0:
		id = IndexOfMax(l)
	default:
		id = s.draw(l)
	}
	if p.LogProbs || p.TopLogProbs > 0 {
		lse := logSumExp(logits)
		lp = float64(logits[id]) - lse
		if p.TopLogProbs > 0 {
			top = topN(logits, p.TopLogProbs, lse)
		}
	}
	if s.counts != nil {
		s.counts[id]++
	}
	if s.seen != nil {
		s.seen[id] = true
	}
	return id, lp, top
}

// draw samples from softmax(l/T) restricted by top-k, min-p and top-p.
func (s *sampler) draw(l []float64) int {
	p := &s.p
	if cap(s.idx) < len(l) {
		s.idx = make([]int, len(l))
	}
	idx := s.idx[:len(l)]
	for i := range idx {
		idx[i] = i
	}
	sorted := false
	if p.TopK > 0 && p.TopK < len(idx) {
		idx = topIndices(l, idx, p.TopK)
		sorted = true
	}
	if p.TopP > 0 && p.TopP < 1 && !sorted {
		sort.Slice(idx, func(a, b int) bool { return l[idx[a]] > l[idx[b]] })
		sorted = true
	}
	maxL := math.Inf(-1)
	for _, i := range idx {
		maxL = max(maxL, l[i])
	}
	probs := make([]float64, len(idx))
	var sum float64
	for j, i := range idx {
		probs[j] = math.Exp((l[i] - maxL) / p.Temperature)
		sum += probs[j]
	}
	if p.MinP > 0 { // the top token's weight is exp(0) = 1
		for j := range probs {
			if probs[j] < p.MinP {
				probs[j] = 0
			}
		}
	}
	if p.TopP > 0 && p.TopP < 1 {
		var total, cum float64
		for _, q := range probs {
			total += q
		}
		for j := range probs {
			cum += probs[j]
			if cum >= p.TopP*total {
				probs = probs[:j+1]
				break
			}
		}
	}
	sum = 0
	for _, q := range probs {
		sum += q
	}
	u := s.rng.Float64() * sum
	for j, q := range probs {
		u -= q
		if u <= 0 && q > 0 {
			return idx[j]
		}
	}
	for j := len(probs) - 1; j >= 0; j-- {
		if probs[j] > 0 {
			return idx[j]
		}
	}
	return idx[0]
}

// topIndices returns the k indices of idx with the largest l, most likely first.
func topIndices(l []float64, idx []int, k int) []int {
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case l[a] > l[b]:
			return -1
		case l[a] < l[b]:
			return 1
		}
		return a - b
	})
	return idx[:k]
}

// topN lists the n most likely ids of logits [V] with their log-probabilities (lse = log Σ exp).
func topN(logits []float32, n int, lse float64) []TokenLogProb {
	n = min(n, len(logits))
	top := make([]TokenLogProb, 0, n+1)
	for i, x := range logits { // insertion into a short sorted list: n is at most 20
		if len(top) == n && float64(x)-lse <= top[n-1].LogProb {
			continue
		}
		e := TokenLogProb{ID: i, LogProb: float64(x) - lse}
		j := sort.Search(len(top), func(j int) bool { return top[j].LogProb < e.LogProb })
		top = slices.Insert(top, j, e)
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}

func logSumExp(logits []float32) float64 {
	m := float64(logits[IndexOfMax(logits)])
	var s float64
	for _, x := range logits {
		s += math.Exp(float64(x) - m)
	}
	return m + math.Log(s)
}

// IndexOfMax is the index of the largest value, the first on ties (numpy's argmax): greedy decoding
// and multiple-choice scoring pick with it.
func IndexOfMax[T float32 | float64](x []T) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
