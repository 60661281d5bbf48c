package train

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/tokenizer"
)

// ResolveCheckpoint turns a checkpoint folder or a run folder (its newest complete checkpoint)
// into a checkpoint folder.
func ResolveCheckpoint(path string) (string, error) {
	if _, err := os.Stat(filepath.Join(path, checkpoint.Marker)); err == nil {
		return path, nil
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	latest, err := (&checkpoint.Manager{Dir: path}).Latest()
	if err != nil {
		return "", err
	}
	if latest == "" {
		return "", fmt.Errorf("%s holds no complete checkpoint (a folder with a %s marker)", path, checkpoint.Marker)
	}
	return latest, nil
}

// ReadConfig reads the run config stored in a checkpoint.
func ReadConfig(dir string) (Config, error) {
	cfg := DefaultConfig()
	b, err := checkpoint.Read(dir, ConfigFile)
	if err != nil {
		return cfg, err
	}
	if err := config.Decode(b, filepath.Join(dir, ConfigFile), &cfg); err != nil {
		return cfg, err
	}
	cfg.Model.Defaults()
	return cfg, cfg.Model.Validate()
}

// ReadTokenizer reads the tokenizer stored in a checkpoint.
func ReadTokenizer(dir string) (tokenizer.Tokenizer, error) {
	b, err := checkpoint.Read(dir, TokenizerFile)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, TokenizerFile), err)
	}
	return tok, nil
}

// Load opens a checkpoint (or a run folder's newest one) for inference or as a fine-tuning
// base: its config, tokenizer and weights, in a fresh Trainer without optimizer state.
func Load(path string, backend compute.Backend) (*Trainer, tokenizer.Tokenizer, error) {
	dir, err := ResolveCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	tok, err := ReadTokenizer(dir)
	if err != nil {
		return nil, nil, err
	}
	if tok.VocabSize() > cfg.Model.VocabSize {
		return nil, nil, fmt.Errorf("%s: tokenizer has %d ids but model.vocab_size is %d", dir, tok.VocabSize(), cfg.Model.VocabSize)
	}
	t, err := New(cfg, backend)
	if err != nil {
		return nil, nil, err
	}
	if _, err := t.Restore(dir, false); err != nil {
		return nil, nil, err
	}
	return t, tok, nil
}
