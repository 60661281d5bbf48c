package tokenizer

import "math/bits"

// mergeTable is a merge table frozen for lookups: open addressing with linear probing
// over a power-of-two array at most half full, key and value side by side so a probe
// touches one cache line. Most lookups are misses (pairs that do not merge), which it
// answers in one or two probes, about twice as fast as a Go map.
type mergeTable struct {
	slots []slot
	shift uint
}

type slot struct {
	key uint64 // emptyKey marks a free slot
	val merge
}

// emptyKey is never a pair key: ids are below 2^31.
const emptyKey = ^uint64(0)

func (m merges) compile() *mergeTable {
	size := 16
	for size < 2*len(m) {
		size *= 2
	}
	t := &mergeTable{slots: make([]slot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.slots {
		t.slots[i].key = emptyKey
	}
	mask := uint64(size - 1)
	for k, v := range m {
		i := (k * 0x9E3779B97F4A7C15) >> t.shift
		for t.slots[i].key != emptyKey {
			i = (i + 1) & mask
		}
		t.slots[i] = slot{k, v}
	}
	return t
}

func (t *mergeTable) get(a, b int32) (merge, bool) {
	k := pairKey(a, b)
	mask := uint64(len(t.slots) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key {
		case k:
			return s.val, true
		case emptyKey:
			return merge{}, false
		}
	}
}
