package train

import (
	"fmt"

	"github.com/golem-ml/golem/tokenizer"
)

// trainTokenizer trains a byte-level BPE of tokenizer.vocab_size on the training data.
func trainTokenizer(cfg Config) (tokenizer.Tokenizer, error) {
	return nil, fmt.Errorf("tokenizer.vocab_size: training a tokenizer on the fly is not wired yet; set tokenizer.path")
}
