package tokenizer

import (
	"fmt"
	"iter"
	"runtime"
	"sync"
)

// TrainOptions configures Train.
type TrainOptions struct {
	// VocabSize is the size of the result: 256 bytes + merges + special tokens. Training
	// stops early if no pair occurs MinFrequency times.
	VocabSize int
	// Pattern is the pre-tokenization rule (default PatternGPT2; PatternCL100K is
	// tiktoken's cl100k rule, which keeps numbers to 3 digits and lets punctuation lead
	// words; PatternO200K is GPT-4o's, which also splits CamelCase).
	Pattern Pattern
	// SpecialTokens get the last ids, in this order (default: just <|endoftext|>). They are
	// never produced by Encode, only by EncodeWithSpecial. Typical: <|endoftext|>, <|pad|>,
	// <|im_start|>, <|im_end|>.
	SpecialTokens []string
	// MinFrequency is how often a pair must occur to be merged (default 2).
	MinFrequency int
	// Workers is the number of goroutines that pre-tokenize and count (default GOMAXPROCS).
	Workers int
	// Progress, if set, is called as training advances: stage "count" with bytes read so
	// far (total -1), then stage "merge" with merges done out of the target.
	Progress func(stage string, done, total int64)
}

// DefaultSpecialTokens is what cmd/tokenizer reserves: end of text, padding and chat roles.
var DefaultSpecialTokens = []string{EndOfText, "<|pad|>", "<|im_start|>", "<|im_end|>"}

// Train learns a byte-level BPE from a stream of documents: it pre-tokenizes and counts
// words in parallel, then repeatedly merges the most frequent adjacent pair (ties: the
// pair with the smaller ids) until the vocabulary reaches opts.VocabSize. Ids 0..255 are
// the bytes, then one id per merge in order, then the special tokens.
func Train(docs iter.Seq[string], opts TrainOptions) (*BPE, error) {
	if opts.Pattern == "" {
		opts.Pattern = PatternGPT2
	}
	next, ok := opts.Pattern.scanner()
	if !ok {
		return nil, fmt.Errorf("train tokenizer: unknown pattern %q (use %q, %q or %q)", opts.Pattern, PatternGPT2, PatternCL100K, PatternO200K)
	}
	if opts.SpecialTokens == nil {
		opts.SpecialTokens = []string{EndOfText}
	}
	seen := map[string]bool{}
	for i, s := range opts.SpecialTokens {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("train tokenizer: SpecialTokens[%d] %q is empty or repeated", i, s)
		}
		seen[s] = true
	}
	if opts.VocabSize < 256+len(opts.SpecialTokens) {
		return nil, fmt.Errorf("train tokenizer: VocabSize %d is below 256 bytes + %d special tokens", opts.VocabSize, len(opts.SpecialTokens))
	}
	if opts.MinFrequency <= 0 {
		opts.MinFrequency = 2
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}

	counts := countWords(docs, next, opts.Pattern != PatternNone, opts.Workers, progress)
	target := opts.VocabSize - 256 - len(opts.SpecialTokens)
	tokens, m := learnMerges(counts, target, opts.MinFrequency, progress)

	special := make(map[string]int32, len(opts.SpecialTokens))
	for _, s := range opts.SpecialTokens {
		special[s] = int32(len(tokens))
		tokens = append(tokens, s)
	}
	t, err := newBPE(tokens, m, opts.Pattern, special)
	if err != nil {
		return nil, fmt.Errorf("train tokenizer: %w", err)
	}
	return t, nil
}

// countWords pre-tokenizes docs on workers goroutines and counts each word.
func countWords(docs iter.Seq[string], next scanner, splittable bool, workers int, progress func(string, int64, int64)) map[string]int64 {
	const batchBytes = 1 << 20
	batches := make(chan []string, workers)
	results := make(chan map[string]int64, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			local := map[string]int64{}
			for batch := range batches {
				for _, doc := range batch {
					for i := 0; i < len(doc); {
						j := next(doc, i)
						local[doc[i:j]]++
						i = j
					}
				}
			}
			results <- local
		})
	}
	var read int64
	var batch []string
	size := 0
	for doc := range docs {
		if len(doc) > batchBytes && splittable {
			// one big document (a whole text file) is counted in pieces on all workers
			for _, c := range safeChunks(doc, batchBytes) {
				batches <- []string{c}
				read += int64(len(c))
				progress("count", read, -1)
			}
			continue
		}
		batch = append(batch, doc)
		size += len(doc)
		if size >= batchBytes {
			batches <- batch
			read += int64(size)
			progress("count", read, -1)
			batch, size = nil, 0
		}
	}
	batches <- batch
	read += int64(size)
	progress("count", read, -1)
	close(batches)
	go func() { wg.Wait(); close(results) }()
	var total map[string]int64
	for local := range results {
		if total == nil {
			total = local
			continue
		}
		for w, c := range local {
			total[w] += c
		}
	}
	return total
}

// pairHeap is a max-heap of pair counts; entries go stale and are checked when popped.
type pairEntry struct {
	count int64
	pair  uint64
}
type pairHeap []pairEntry

func (h pairHeap) less(i, j int) bool {
	return h[i].count > h[j].count || (h[i].count == h[j].count && h[i].pair < h[j].pair)
}

func (h *pairHeap) push(e pairEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *pairHeap) pop() pairEntry {
	s := *h
	top := s[0]
	s[0] = s[len(s)-1]
	s = s[:len(s)-1]
	*h = s
	h.down(0)
	return top
}

func (h pairHeap) down(i int) {
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// learnMerges runs the BPE merge loop over counted words and returns the tokens (bytes
// first) and the merge table.
func learnMerges(counts map[string]int64, target, minFreq int, progress func(string, int64, int64)) ([]string, merges) {
	type word struct {
		syms  []int32
		count int64
	}
	words := make([]word, 0, len(counts))
	for w, c := range counts {
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = int32(w[i])
		}
		words = append(words, word{syms, c})
	}
	pairCount := map[uint64]int64{}
	where := map[uint64][]int32{}
	for wi, w := range words {
		for i := 0; i+1 < len(w.syms); i++ {
			k := pairKey(w.syms[i], w.syms[i+1])
			pairCount[k] += w.count
			if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(wi) {
				where[k] = append(l, int32(wi))
			}
		}
	}
	h := make(pairHeap, 0, len(pairCount))
	for k, c := range pairCount {
		h = append(h, pairEntry{c, k})
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}

	tokens := make([]string, 256, 256+target)
	for b := range 256 {
		tokens[b] = string([]byte{byte(b)})
	}
	m := make(merges, target)
	lastVisit := make([]int32, len(words))
	for i := range lastVisit {
		lastVisit[i] = -1
	}
	changed := map[uint64]int64{} // pair -> count before this merge
	for len(m) < target && len(h) > 0 {
		e := h.pop()
		if cur := pairCount[e.pair]; cur != e.count {
			if cur > 0 {
				h.push(pairEntry{cur, e.pair})
			}
			continue
		}
		if e.count < int64(minFreq) {
			break
		}
		a, b := int32(e.pair>>32), int32(uint32(e.pair))
		id := int32(len(tokens))
		tokens = append(tokens, tokens[a]+tokens[b])
		m[e.pair] = merge{int32(len(m)), id}
		clear(changed)
		for _, wi := range where[e.pair] {
			if lastVisit[wi] == id {
				continue
			}
			lastVisit[wi] = id
			w := &words[wi]
			if !containsPair(w.syms, a, b) {
				continue
			}
			for i := 0; i+1 < len(w.syms); i++ {
				k := pairKey(w.syms[i], w.syms[i+1])
				if _, ok := changed[k]; !ok {
					changed[k] = pairCount[k]
				}
				pairCount[k] -= w.count
			}
			out := w.syms[:0]
			for i := 0; i < len(w.syms); i++ {
				if i+1 < len(w.syms) && w.syms[i] == a && w.syms[i+1] == b {
					out = append(out, id)
					i++
				} else {
					out = append(out, w.syms[i])
				}
			}
			w.syms = out
			for i := 0; i+1 < len(w.syms); i++ {
				k := pairKey(w.syms[i], w.syms[i+1])
				if _, ok := changed[k]; !ok {
					changed[k] = pairCount[k]
				}
				pairCount[k] += w.count
				if w.syms[i] == id || w.syms[i+1] == id {
					if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(wi) {
						where[k] = append(l, int32(wi))
					}
				}
			}
		}
		delete(where, e.pair)
		for k, before := range changed {
			switch c := pairCount[k]; {
			case c <= 0:
				delete(pairCount, k)
			case c > before && k != e.pair:
				// A count that fell is fixed when its stale entry pops; one that rose
				// needs an entry now.
				h.push(pairEntry{c, k})
			}
		}
		progress("merge", int64(len(m)), int64(target))
	}
	return tokens, m
}

func containsPair(s []int32, a, b int32) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == a && s[i+1] == b {
			return true
		}
	}
	return false
}
