package train

import (
	"fmt"
	"iter"
	"os"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// trainTokenizer trains a byte-level BPE of tokenizer.vocab_size on the training documents
// (any raw format text reads), with the default special tokens.
func trainTokenizer(cfg Config, text data.TextSource) (tokenizer.Tokenizer, error) {
	if text == nil {
		return nil, fmt.Errorf("tokenizer.path: empty, so a tokenizer would be trained on data.train, but this program reads no raw text; set tokenizer.path to a tokenizer file")
	}
	var readErr error
	docs := iter.Seq[string](func(yield func(string) bool) {
		for d, err := range text.Documents(cfg.Data, cfg.Data.Train) {
			if err != nil {
				readErr = err
				return
			}
			if !yield(d) {
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
