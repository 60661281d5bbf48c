// Package data turns corpora into training batches.
//
// The training loop sees only a Loader: fixed-length windows of T+1 tokens drawn from a
// Tokens stream, in an order that is a pure function of (seed, step). Resuming a run needs
// nothing but the step, so the data position saved in a checkpoint is exact by construction.
//
// Tokens come from llm.c token shards (shards.go) or, for raw text, from a TextSource
// (rawtext.go); reading, cleaning and deduplicating raw text is package corpus's, so a
// program that trains links none of it unless it passes corpus.TextSource.
package data

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Tokens is a random-access stream of token ids: an in-memory slice, or memory-mapped
// token shards for corpora that do not fit in memory.
type Tokens interface {
	// Len is the number of tokens in the stream.
	Len() int64
	// Read fills dst with the tokens starting at offset. offset+len(dst) <= Len().
	Read(dst []int32, offset int64)
}

// Slice is an in-memory Tokens.
type Slice []int32

func (s Slice) Len() int64                     { return int64(len(s)) }
func (s Slice) Read(dst []int32, offset int64) { copy(dst, s[offset:]) }

// Loader cuts a Tokens stream into windows of SeqLen+1 tokens (inputs and shifted targets
// share all but one token) and serves them in a seeded random order, epoch after epoch.
// Window w starts at token w*SeqLen. Sample g of the run (g = step*BatchSize + row) is
// window perm(epoch)[g mod numWindows], epoch = g / numWindows.
type Loader struct {
	src        Tokens
	seqLen     int
	batchSize  int
	seed       uint64
	shuffle    bool
	numWindows int64

	mu        sync.Mutex
	permEpoch int64
	perm      []int64
}

// NewLoader makes a loader of batchSize rows of seqLen+1 tokens. With shuffle false the
// windows come in order (used for evaluation).
func NewLoader(src Tokens, seqLen, batchSize int, seed uint64, shuffle bool) (*Loader, error) {
	if seqLen <= 0 || batchSize <= 0 {
		return nil, fmt.Errorf("loader: seq_len (%d) and batch size (%d) must be positive", seqLen, batchSize)
	}
	n := (src.Len() - 1) / int64(seqLen)
	if n < 1 {
		return nil, fmt.Errorf("loader: %d tokens is fewer than one window of seq_len+1 = %d tokens; use more data or a shorter seq_len", src.Len(), seqLen+1)
	}
	return &Loader{src: src, seqLen: seqLen, batchSize: batchSize, seed: seed, shuffle: shuffle, numWindows: n, permEpoch: -1}, nil
}

// NumWindows is the number of distinct windows in one epoch.
func (l *Loader) NumWindows() int64 { return l.numWindows }

// StepsPerEpoch is how many batches one pass over the data takes (rounded up).
func (l *Loader) StepsPerEpoch() int64 {
	return (l.numWindows + int64(l.batchSize) - 1) / int64(l.batchSize)
}

// Window returns the index of the window that sample g of the run reads.
func (l *Loader) Window(g int64) int64 {
	epoch, pos := g/l.numWindows, g%l.numWindows
	if !l.shuffle {
		return pos
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.permEpoch != epoch {
		r := rand.New(rand.NewPCG(l.seed, uint64(epoch)))
		if l.perm == nil {
			l.perm = make([]int64, l.numWindows)
		}
		for i := range l.perm {
			l.perm[i] = int64(i)
		}
		r.Shuffle(len(l.perm), func(i, j int) { l.perm[i], l.perm[j] = l.perm[j], l.perm[i] })
		l.permEpoch = epoch
	}
	return l.perm[pos]
}

// Batch returns the batch for a step as rows of SeqLen+1 tokens: dst is [BatchSize, SeqLen+1]
// in row-major order. rows selects a slice of the batch (a micro-batch, or one data-parallel
// rank's share): rows [from, to).
func (l *Loader) Batch(step int64, from, to int) []int32 {
	w := l.seqLen + 1
	dst := make([]int32, (to-from)*w)
	for r := from; r < to; r++ {
		win := l.Window(step*int64(l.batchSize) + int64(r))
		l.src.Read(dst[(r-from)*w:(r-from+1)*w], win*int64(l.seqLen))
	}
	return dst
}

// BatchSize is the number of rows per batch.
func (l *Loader) BatchSize() int { return l.batchSize }
