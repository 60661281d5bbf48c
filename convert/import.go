package convert

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-ml/golem/checkpoint"
)

// Import reads any foreign checkpoint golem knows: a Hugging Face folder (it has a
// config.json) or a llama2.c .bin file. tok is the tokenizer ("" = the one beside the weights).
func Import(src, tok string) (*Model, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(src, "config.json")); err == nil {
			return ImportHF(src, tok)
		}
		if _, err := os.Stat(filepath.Join(src, checkpoint.Marker)); err == nil {
			return nil, fmt.Errorf("%s is already a golem checkpoint", src)
		}
		return nil, fmt.Errorf("%s: no config.json; give a Hugging Face model folder or a llama2.c .bin file", src)
	}
	return ImportLlama2C(src, tok)
}
