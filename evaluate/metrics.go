package evaluate

import (
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/golem-ml/golem/generate"
)

// metricOutputs says which output types each metric applies to.
//
//	acc              multiple_choice: the highest log-likelihood is the gold choice;
//	                 loglikelihood: the continuation is the greedy one (is_greedy)
//	acc_norm         multiple_choice: highest log-likelihood per character of the choice (lm-eval's acc_norm)
//	acc_bytes        multiple_choice: the same per UTF-8 byte (lm-eval's acc_bytes)
//	mc2              multiple_choice: normalised probability mass on the true choices (TruthfulQA MC2; reported as acc, as lm-eval does)
//	exact_match      generate_until: extracted answer == target after MatchOpts
//	perplexity       loglikelihood: exp(-mean log p) over items
//	word_perplexity, byte_perplexity, bits_per_byte  loglikelihood_rolling: per word / byte of the document
var metricOutputs = map[string]string{
	"acc":             MultipleChoice + " " + Loglikelihood,
	"acc_norm":        MultipleChoice,
	"acc_bytes":       MultipleChoice,
	"mc2":             MultipleChoice,
	"exact_match":     GenerateUntil,
	"perplexity":      Loglikelihood,
	"word_perplexity": LoglikelihoodRolling,
	"byte_perplexity": LoglikelihoodRolling,
	"bits_per_byte":   LoglikelihoodRolling,
}

func metricNames(output string) string {
	var out []string
	for m, o := range metricOutputs {
		if appliesTo(o, output) {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// appliesTo says whether output is one of the space-separated output types in outs.
func appliesTo(outs, output string) bool {
	for _, o := range strings.Fields(outs) {
		if o == output {
			return true
		}
	}
	return false
}

// ChoiceScores are the per-item multiple-choice metrics from the choices' log-likelihoods.
// lengths normalise acc_norm (characters, as lm-eval's len(choice)) and acc_bytes (bytes).
func ChoiceScores(lls []float64, choices []string, gold, trueChoices int) (acc, accNorm, accBytes, mc2 float64) {
	norm, byByte := make([]float64, len(lls)), make([]float64, len(lls))
	for i, c := range choices {
		norm[i] = lls[i] / float64(utf8.RuneCountInString(c))
		byByte[i] = lls[i] / float64(len(c))
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	return b2f(generate.IndexOfMax(lls) == gold), b2f(generate.IndexOfMax(norm) == gold), b2f(generate.IndexOfMax(byByte) == gold), MC2(lls, trueChoices)
}

// MC2 is TruthfulQA's MC2: the probabilities of all choices normalised to sum to one, summed
// over the true ones (the first nTrue).
func MC2(lls []float64, nTrue int) float64 {
	if len(lls) == 0 {
		return 0
	}
	m := lls[generate.IndexOfMax(lls)]
	var all, pos float64
	for i, l := range lls {
		p := math.Exp(l - m) // the shift cancels in the ratio
		all += p
		if i < nTrue {
			pos += p
		}
	}
	return pos / all
}

// Mean and its standard error as lm-eval computes it: sample standard deviation (n-1) / sqrt(n).
func Mean(x []float64) (mean, stderr float64) {
	n := float64(len(x))
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= n
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// Perplexity is exp(-mean log p) over items (lm-eval's perplexity aggregation, used for
// LAMBADA's per-item continuation log-likelihoods).
func Perplexity(lls []float64) float64 {
	m, _ := Mean(lls)
	return math.Exp(-m)
}

// Weighted is Σ log p / Σ units over documents (units: words or bytes).
func Weighted(lls, units []float64) float64 {
	var a, b float64
	for i := range lls {
		a += lls[i]
		b += units[i]
	}
	return a / b
}

// Bootstrap is lm-eval's bootstrap standard error of a statistic: the sample standard
// deviation of f over iters resamples (with replacement) of x. Seeded, so reports repeat.
func Bootstrap(f func([]float64) float64, x []float64, iters int, seed uint64) float64 {
	if len(x) < 2 || iters < 2 {
		return math.NaN()
	}
	r := rand.New(rand.NewPCG(seed, 0xb007))
	res := make([]float64, iters)
	buf := make([]float64, len(x))
	for i := range res {
		for j := range buf {
			buf[j] = x[r.IntN(len(x))]
		}
		res[i] = f(buf)
	}
	_, se := Mean(res)
	return se * math.Sqrt(float64(iters)) // sample standard deviation of the replicates
}

// CountWords counts words as lm-eval does: len(re.split(r"\s+", doc)).
func CountWords(s string) int { return len(wsRE.Split(s, -1)) }

var wsRE = regexp.MustCompile(`\s+`)

// ExtractAnswer applies lm-eval's regex filter to generated text: all matches, take the
// GroupSelect-th (negative from the end); with groups, the first non-empty group; stripped.
func (x *Extract) Apply(text string) string {
	if x.re == nil {
		return text
	}
	ms := x.re.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return x.Fallback
	}
	i := x.GroupSelect
	if i < 0 {
		i += len(ms)
	}
	if i < 0 || i >= len(ms) {
		i = 0
	}
	m := ms[i]
	out := m[0]
	if len(m) > 1 {
		out = ""
		for _, g := range m[1:] {
			if g != "" {
				out = g
				break
			}
		}
	}
	return strings.TrimSpace(out)
}

// Match is Hugging Face evaluate's exact_match for one pair under the options.
func (o *MatchOpts) Match(pred, ref string) bool {
	norm := func(s string) string {
		for _, re := range o.res {
			s = re.ReplaceAllString(s, "")
		}
		if o.IgnoreCase {
			s = strings.ToLower(s)
		}
		if o.IgnorePunctuation {
			s = strings.Map(func(r rune) rune {
				if strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
					return -1
				}
				return r
			}, s)
		}
		return s
	}
	return norm(pred) == norm(ref)
}
