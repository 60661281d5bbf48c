// Package tokenizer turns text into token ids and back.
//
// Every tokenizer in golem implements Tokenizer. A model's tokenizer travels inside its
// checkpoints as a Hugging Face style tokenizer.json (see Save and Load), so a checkpoint
// is enough to encode prompts and decode samples.
package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
)

// Tokenizer encodes text to ids and decodes ids to text.
type Tokenizer interface {
	// Encode turns plain text into ids. Special tokens are never produced from plain text.
	Encode(text string) []int
	// Decode turns ids back into text. For byte-level vocabularies it is the exact inverse of Encode.
	Decode(ids []int) string
	// VocabSize is the number of ids, special tokens included.
	VocabSize() int
	// EOT is the end-of-text id that separates documents, or -1 if the vocabulary has none.
	EOT() int
	// MarshalJSON writes the tokenizer in Hugging Face tokenizer.json format.
	MarshalJSON() ([]byte, error)
}

// Save writes t to path in tokenizer.json format.
func Save(t Tokenizer, path string) error {
	b, err := t.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding tokenizer for %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing tokenizer %s: %w", path, err)
	}
	return nil
}

// Load reads a tokenizer.json written by Save (or by Hugging Face tokenizers).
func Load(path string) (Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// Parse decodes a tokenizer.json document.
func Parse(b []byte) (Tokenizer, error) {
	var head struct {
		Model struct {
			Type   string            `json:"type"`
			Vocab  map[string]int    `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if head.Model.Type == "BPE" && len(head.Model.Merges) == 0 && len(head.Model.Vocab) == 256 {
		return NewByte(), nil
	}
	return nil, fmt.Errorf("model type %q with %d merges is not supported yet", head.Model.Type, len(head.Model.Merges))
}
