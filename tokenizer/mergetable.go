package tokenizer

import "math/bits"

// mergeTable is a merge table frozen for lookups: open addressing with linear probing
// over a power-of-two array at most half full. Most lookups are misses (pairs that do not
// merge), which it answers in one or two probes, about twice as fast as a Go map.
type mergeTable struct {
	keys  []uint64 // emptyKey marks a free slot
	vals  []merge
	shift uint
}

// emptyKey is never a pair key: ids are below 2^31.
const emptyKey = ^uint64(0)

func (m merges) compile() *mergeTable {
	size := 16
	for size < 2*len(m) {
		size *= 2
	}
	t := &mergeTable{keys: make([]uint64, size), vals: make([]merge, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.keys {
		t.keys[i] = emptyKey
	}
	mask := uint64(size - 1)
	for k, v := range m {
		i := (k * 0x9E3779B97F4A7C15) >> t.shift
		for t.keys[i] != emptyKey {
			i = (i + 1) & mask
		}
		t.keys[i], t.vals[i] = k, v
	}
	return t
}

func (t *mergeTable) get(a, b int32) (merge, bool) {
	k := pairKey(a, b)
	mask := uint64(len(t.keys) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> t.shift; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case emptyKey:
			return merge{}, false
		}
	}
}
