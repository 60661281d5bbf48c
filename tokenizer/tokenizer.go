// Package tokenizer turns text into token ids and back.
//
// Every tokenizer in golem implements Tokenizer. A model's tokenizer travels inside its
// checkpoints as a Hugging Face style tokenizer.json (see Save and Load), so a checkpoint
// is enough to encode prompts and decode samples.
//
// There are three implementations:
//   - Byte: ids are bytes, plus <|endoftext|>.
//   - BPE: byte-level BPE. Train builds one from a corpus; LoadGPT2 (encoder.json +
//     vocab.bpe), LoadTiktoken (r50k_base, p50k_base, cl100k_base) and Load/Parse
//     (tokenizer.json with a ByteLevel pre-tokenizer: GPT-2, GPT-NeoX, Llama 3 style) read
//     existing ones. Decode(Encode(s)) == s for every string s.
//   - SentencePiece: SentencePiece-style BPE with byte fallback. Load/Parse (Llama 2 style
//     tokenizer.json), LoadSentencePiece (tokenizer.model) and LoadLlama2C (llama2.c's
//     tokenizer.bin, encoded exactly as run.c's encode() does).
//
// LoadAny picks the loader from the file name. All of them encode token for token like
// the reference implementations (tiktoken, HF tokenizers, SentencePiece, llama2.c run.c);
// testdata/tokenizer/golden.json holds the reference ids the tests compare against.
//
// Encoding is written for speed: hand-written pre-tokenizers instead of regular
// expressions (Go's regexp lacks the lookahead the GPT-2 and cl100k patterns use), one
// merge table keyed by id pairs for every format, a linear scan for short words and a
// heap for long ones, a per-goroutine word cache, EncodeBatch over documents on all
// cores, and Encode itself split across cores for texts over 1 MiB. Special tokens are
// never produced by Encode; EncodeWithSpecial recognizes them.
package tokenizer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/internal/atomicfile"
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
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("writing tokenizer: %w", err)
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

// Parse decodes a tokenizer.json document: what Save writes, and Hugging Face BPE
// tokenizers that are byte-level (GPT-2, GPT-NeoX, Llama 3 style) or SentencePiece-style
// (Llama 2 style: byte fallback and ▁ for spaces).
func Parse(b []byte) (Tokenizer, error) {
	return parseHF(b)
}

// LoadAny reads a tokenizer in any format golem knows, detected by name and content:
//   - tokenizer.json (Hugging Face) or any other .json except encoder.json
//   - a GPT-2 directory or its encoder.json / vocab.bpe (OpenAI GPT-2 files)
//   - r50k_base / p50k_base / cl100k_base .tiktoken (tiktoken rank files)
//   - *.model (SentencePiece BPE model, e.g. Llama 2's tokenizer.model)
//   - *.bin (llama2.c tokenizer.bin)
//
// A directory is searched for tokenizer.json, encoder.json + vocab.bpe, tokenizer.model
// and tokenizer.bin, in that order.
func LoadAny(path string) (Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	if st.IsDir() {
		for _, name := range []string{"tokenizer.json", "encoder.json", "tokenizer.model", "tokenizer.bin"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				return LoadAny(filepath.Join(path, name))
			}
		}
		return nil, fmt.Errorf("tokenizer %s: directory has no tokenizer.json, encoder.json, tokenizer.model or tokenizer.bin", path)
	}
	base := filepath.Base(path)
	switch {
	case base == "encoder.json" || base == "vocab.bpe":
		return LoadGPT2(filepath.Dir(path))
	case strings.HasSuffix(base, ".tiktoken"):
		return LoadTiktoken(path)
	case strings.HasSuffix(base, ".model"):
		return LoadSentencePiece(path)
	case strings.HasSuffix(base, ".bin"):
		return LoadLlama2C(path)
	case strings.HasSuffix(base, ".json"):
		return Load(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return Load(path)
	}
	return nil, fmt.Errorf("tokenizer %s: unknown format; name it tokenizer.json, encoder.json, *.tiktoken, *.model or *.bin", path)
}
