package convert

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-ml/golem/checkpoint"
)

// ImportOptions are the choices of an import beyond its source.
type ImportOptions struct {
	Tokenizer string // tokenizer file or folder ("" = the one beside the weights)
	// AllowNonfinite copies NaN and ±Inf weights instead of refusing the file.
	AllowNonfinite bool
}

// Import reads any foreign checkpoint golem knows: a Hugging Face folder (it has a
// config.json) or a llama2.c .bin file. tok is the tokenizer ("" = the one beside the weights).
// A weight that is NaN or ±Inf fails the import, naming the tensor.
func Import(src, tok string) (*Model, error) {
	return ImportWith(src, ImportOptions{Tokenizer: tok})
}

// ImportWith is Import with options.
func ImportWith(src string, opts ImportOptions) (*Model, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(src, "config.json")); err == nil {
			return importHF(src, opts)
		}
		if _, err := os.Stat(filepath.Join(src, checkpoint.Marker)); err == nil {
			return nil, fmt.Errorf("%s is already a golem checkpoint", src)
		}
		return nil, fmt.Errorf("%s: no config.json; give a Hugging Face model folder or a llama2.c .bin file", src)
	}
	return importLlama2C(src, opts)
}
