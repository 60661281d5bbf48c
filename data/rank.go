package data

import "fmt"

// RankRows returns the rows [from, to) of a batch that data-parallel rank `rank` of
// `ranks` takes: rank r gets rows [r*B/R, (r+1)*B/R). Pass them to Loader.Batch; the
// ranks together read exactly the batch a single process would.
func RankRows(rank, ranks, batchSize int) (from, to int) {
	return rank * batchSize / ranks, (rank + 1) * batchSize / ranks
}

// LoaderState is the data position saved in a checkpoint. The order of batches is a pure
// function of (seed, epoch, step) over the whole token stream, so Step is the position;
// the other fields make a resume on different data or settings fail loudly instead of
// silently serving other batches.
type LoaderState struct {
	Step      int64  `json:"step"`
	Seed      uint64 `json:"seed"`
	SeqLen    int    `json:"seq_len"`
	BatchSize int    `json:"batch_size"`
	Shuffle   bool   `json:"shuffle"`
	Tokens    int64  `json:"tokens"` // length of the token stream
}

// State is the position to save after `step` batches have been consumed: resuming from
// it serves batch `step` next.
func (l *Loader) State(step int64) LoaderState {
	return LoaderState{Step: step, Seed: l.seed, SeqLen: l.seqLen, BatchSize: l.batchSize, Shuffle: l.shuffle, Tokens: l.src.Len()}
}

// ResumeLoader makes a loader that continues from a saved state; its next batch is
// Batch(st.Step, ...). It fails, naming the difference, when src is not the stream the
// state was saved on.
func ResumeLoader(src Tokens, st LoaderState) (*Loader, error) {
	if src.Len() != st.Tokens {
		return nil, fmt.Errorf("loader: the checkpoint was saved on %d tokens of data but data.train now has %d; resume with the same shards (or start a new run)", st.Tokens, src.Len())
	}
	return NewLoader(src, st.SeqLen, st.BatchSize, st.Seed, st.Shuffle)
}

// Epoch is the epoch that batch `step` belongs to (by its first row).
func (l *Loader) Epoch(step int64) int64 { return step * int64(l.batchSize) / l.numWindows }
