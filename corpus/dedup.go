package corpus

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"unicode"
	"unicode/utf8"
)

// DedupConfig configures deduplication. Both kinds keep the first document of a group
// in input order (shard list order, then position in the shard) and drop the rest.
type DedupConfig struct {
	// Exact drops documents whose normalised text (lower case, whitespace collapsed)
	// hashes (SHA-256, first 128 bits) like an earlier one (exact_duplicate).
	Exact bool `yaml:"exact"`
	// MinHash drops near-duplicates: documents that share all rows of at least one LSH band
	// with an earlier document, over word NGram-shingles (near_duplicate). With 14 bands of
	// 8 rows a pair at Jaccard similarity 0.8 is caught with probability 0.92, one at 0.5
	// with 0.05.
	MinHash bool   `yaml:"minhash"`
	NGram   int    `yaml:"ngram"` // shingle size in words; default 5
	Bands   int    `yaml:"bands"` // LSH bands; default 14
	Rows    int    `yaml:"rows"`  // hashes per band; default 8
	Seed    uint64 `yaml:"seed"`  // seeds the hash permutations; all jobs of a run must share it
}

// DefaultDedup is exact plus MinHash with datatrove's defaults (5-grams, 14x8).
func DefaultDedup() DedupConfig {
	return DedupConfig{Exact: true, MinHash: true, NGram: 5, Bands: 14, Rows: 8, Seed: 1}
}

func (c DedupConfig) withDefaults() DedupConfig {
	if c.NGram <= 0 {
		c.NGram = 5
	}
	if c.Bands <= 0 {
		c.Bands = 14
	}
	if c.Rows <= 0 {
		c.Rows = 8
	}
	return c
}

// Enabled reports whether any deduplication is on.
func (c DedupConfig) Enabled() bool { return c.Exact || c.MinHash }

// NormalizeForDedup lower-cases text, drops punctuation and collapses whitespace, so
// documents that differ only in those hash alike.
func NormalizeForDedup(text string) string {
	b := make([]byte, 0, len(text))
	space := false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case asciiSpace[c]:
				space = true
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				b = appendSep(b, &space)
				b = append(b, c)
			case c >= 'A' && c <= 'Z':
				b = appendSep(b, &space)
				b = append(b, c+'a'-'A')
			case unicode.IsPunct(rune(c)):
			default:
				b = appendSep(b, &space)
				b = append(b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			space = true
		case unicode.IsPunct(r):
		default:
			b = appendSep(b, &space)
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	return string(b)
}

func appendSep(b []byte, space *bool) []byte {
	if *space && len(b) > 0 {
		b = append(b, ' ')
	}
	*space = false
	return b
}

// ExactHash is the 128-bit hash of the normalised text.
func ExactHash(text string) [2]uint64 { return exactHashNormalized(NormalizeForDedup(text)) }

func exactHashNormalized(norm string) [2]uint64 {
	s := sha256.Sum256([]byte(norm))
	return [2]uint64{binary.LittleEndian.Uint64(s[0:]), binary.LittleEndian.Uint64(s[8:])}
}

// MinHasher computes MinHash signatures and LSH band keys. The same config and seed give
// the same keys on every machine.
type MinHasher struct {
	cfg  DedupConfig
	a, b []uint64
}

// NewMinHasher prepares Bands*Rows hash permutations.
func NewMinHasher(cfg DedupConfig) *MinHasher {
	cfg = cfg.withDefaults()
	n := cfg.Bands * cfg.Rows
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6d696e68617368))
	m := &MinHasher{cfg: cfg, a: make([]uint64, n), b: make([]uint64, n)}
	for i := range m.a {
		m.a[i] = r.Uint64() | 1
		m.b[i] = r.Uint64()
	}
	return m
}

// fnv64 is FNV-1a, fixed across machines (unlike hash/maphash).
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// Signature returns the MinHash signature (Bands*Rows values) of the text's shingles:
// word n-grams of the normalised text (the whole text when it is shorter than n words).
// Each permutation is a multiply-shift hash of the 64-bit shingle hash.
func (m *MinHasher) Signature(text string) []uint32 {
	return m.signatureNormalized(NormalizeForDedup(text))
}

func (m *MinHasher) signatureNormalized(norm string) []uint32 {
	words := fields(norm)
	sig := make([]uint32, len(m.a))
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	if len(words) == 0 {
		return sig
	}
	wh := make([]uint64, len(words))
	for i, w := range words {
		wh[i] = fnv64(w)
	}
	n := min(m.cfg.NGram, len(words))
	for i := 0; i+n <= len(words); i++ {
		x := ngramHash(wh[i : i+n])
		for j := range sig {
			if v := uint32((m.a[j]*x + m.b[j]) >> 32); v < sig[j] {
				sig[j] = v
			}
		}
	}
	return sig
}

// Bands hashes each band of a signature to a 64-bit key; two documents are candidate
// near-duplicates when any band key matches.
func (m *MinHasher) Bands(sig []uint32) []uint64 {
	keys := make([]uint64, m.cfg.Bands)
	for b := range keys {
		h := uint64(14695981039346656037) ^ uint64(b)
		for _, v := range sig[b*m.cfg.Rows : (b+1)*m.cfg.Rows] {
			h = (h ^ uint64(v)) * 1099511628211
			h ^= h >> 31
		}
		keys[b] = h
	}
	return keys
}

// Jaccard estimates the similarity of two signatures.
func Jaccard(a, b []uint32) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}
