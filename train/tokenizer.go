package train

import (
	"fmt"
	"iter"
	"os"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// trainTokenizer trains a byte-level BPE of tokenizer.vocab_size on the training documents
// (any raw format the data section reads), with the default special tokens.
func trainTokenizer(cfg Config) (tokenizer.Tokenizer, error) {
	opts := data.ReadOptions{Format: cfg.Data.Format, JSONL: data.JSONLOptions{TextField: cfg.Data.TextField}}
	if opts.Format == "" {
		opts.Format = "auto"
	}
	var readErr error
	docs := iter.Seq[string](func(yield func(string) bool) {
		for d, err := range data.Documents(cfg.Data.Train, opts) {
			if err != nil {
				readErr = err
				return
			}
			if !yield(d.Text) {
				return
			}
		}
	})
	fmt.Fprintf(os.Stderr, "training a %d-token BPE tokenizer on %v\n", cfg.Tokenizer.VocabSize, cfg.Data.Train)
	tok, err := tokenizer.Train(docs, tokenizer.TrainOptions{VocabSize: cfg.Tokenizer.VocabSize, SpecialTokens: tokenizer.DefaultSpecialTokens})
	if readErr != nil {
		return nil, fmt.Errorf("data.train: %w", readErr)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer.vocab_size: %w", err)
	}
	return tok, nil
}
