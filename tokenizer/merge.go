package tokenizer

// merge is one entry of a merge table: the pair's priority (lower merges first) and the
// id of the token the pair becomes.
type merge struct{ rank, id int32 }

// merges is a BPE merge table keyed by (left id, right id). Every vocabulary format ends up
// here: HF merges lists rank by list position, tiktoken ranks by the merged token's rank,
// SentencePiece and llama2.c rank by the merged piece's score (equal scores share a rank).
type merges map[uint64]merge

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// shortWord is the length up to which apply scans linearly; longer sequences use a heap.
const shortWord = 48

// apply merges syms in place, always taking the lowest-rank adjacent pair and the leftmost
// of equal-rank pairs (what tiktoken, HF tokenizers, SentencePiece and llama2.c all do),
// and returns the merged prefix of syms.
func (m *mergeTable) apply(syms []int32, sc *scratch) []int32 {
	if len(syms) < 2 {
		return syms
	}
	if len(syms) > shortWord {
		return m.applyHeap(syms, sc)
	}
	const none = int32(1<<31 - 1)
	var ranksBuf [shortWord]int32
	var idsBuf [shortWord]int32
	n := len(syms)
	ranks, ids := ranksBuf[:n-1], idsBuf[:n-1]
	for i := 0; i < n-1; i++ {
		if mg, ok := m.get(syms[i], syms[i+1]); ok {
			ranks[i], ids[i] = mg.rank, mg.id
		} else {
			ranks[i] = none
		}
	}
	for {
		best, bi := none, -1
		for i, r := range ranks {
			if r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		syms[bi] = ids[bi]
		copy(syms[bi+1:], syms[bi+2:])
		syms = syms[:len(syms)-1]
		copy(ranks[bi:], ranks[bi+1:])
		copy(ids[bi:], ids[bi+1:])
		ranks, ids = ranks[:len(ranks)-1], ids[:len(ids)-1]
		if bi > 0 {
			if mg, ok := m.get(syms[bi-1], syms[bi]); ok {
				ranks[bi-1], ids[bi-1] = mg.rank, mg.id
			} else {
				ranks[bi-1] = none
			}
		}
		if bi < len(syms)-1 {
			if mg, ok := m.get(syms[bi], syms[bi+1]); ok {
				ranks[bi], ids[bi] = mg.rank, mg.id
			} else {
				ranks[bi] = none
			}
		}
	}
	return syms
}

// candidate is a heap entry: merging symbol left with its right neighbour right.
type candidate struct {
	rank, left, right, a, b, id int32
}

func (c candidate) less(d candidate) bool {
	return c.rank < d.rank || (c.rank == d.rank && c.left < d.left)
}

// scratch holds per-goroutine buffers for applyHeap.
type scratch struct {
	next, prev []int32
	heap       []candidate
}

func (m *mergeTable) applyHeap(syms []int32, sc *scratch) []int32 {
	if sc == nil {
		sc = &scratch{}
	}
	n := len(syms)
	sc.next = grow(sc.next, n)
	sc.prev = grow(sc.prev, n)
	next, prev := sc.next, sc.prev
	for i := range n {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	h := sc.heap[:0]
	push := func(c candidate) {
		h = append(h, c)
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !h[i].less(h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() candidate {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		i := 0
		for {
			l, r, s := 2*i+1, 2*i+2, i
			if l < len(h) && h[l].less(h[s]) {
				s = l
			}
			if r < len(h) && h[r].less(h[s]) {
				s = r
			}
			if s == i {
				break
			}
			h[i], h[s] = h[s], h[i]
			i = s
		}
		return top
	}
	try := func(l, r int32) {
		if l < 0 || int(r) >= n {
			return
		}
		if mg, ok := m.get(syms[l], syms[r]); ok {
			push(candidate{mg.rank, l, r, syms[l], syms[r], mg.id})
		}
	}
	for i := 0; i < n-1; i++ {
		try(int32(i), int32(i+1))
	}
	const dead = -1
	for len(h) > 0 {
		c := pop()
		if syms[c.left] != c.a || next[c.left] != c.right || syms[c.right] != c.b {
			continue // stale: one side has merged since
		}
		syms[c.left] = c.id
		syms[c.right] = dead
		nr := next[c.right]
		next[c.left] = nr
		if int(nr) < n {
			prev[nr] = c.left
		}
		try(prev[c.left], c.left)
		try(c.left, nr)
	}
	sc.heap = h
	out := syms[:0]
	for i := 0; i < n; i = int(next[i]) {
		out = append(out, syms[i])
	}
	return out
}

func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
