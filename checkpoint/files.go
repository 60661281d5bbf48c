package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-ml/golem/tokenizer"
)

// Files inside a golem checkpoint folder. Every command that writes or reads one (pretrain,
// finetune, convert, the inference commands) names them from here.
const (
	ModelFile     = "model.safetensors"     // parameters by transformer name, float32
	OptimizerFile = "optimizer.safetensors" // AdamW moments "adam/m/...", "adam/v/...", step count "adam/t", dropout RNG "rng"
	StateFile     = "state.json"            // State
	ConfigFile    = "config.yaml"           // the resolved run config (train.Config)
	TokenizerFile = "tokenizer.json"        // the tokenizer the model was trained with
)

// State is the training loop's own state saved in every checkpoint (state.json). The data
// loader's position is the step: batches are a pure function of (seed, step).
type State struct {
	Step        int64   `json:"step"`
	TokensSeen  int64   `json:"tokens_seen"`
	BadInRow    int     `json:"bad_in_row"`
	DataSeed    uint64  `json:"data_seed"`
	DataStep    int64   `json:"data_step"`
	BestValLoss float64 `json:"best_val_loss,omitempty"`
	ElapsedSec  float64 `json:"elapsed_sec"`
}

// Resolve turns what a user names as a checkpoint into a complete checkpoint folder: a
// checkpoint folder itself (it has a manifest), or a run folder (its newest complete
// checkpoint). Errors say which of the two was expected.
func Resolve(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("checkpoint %s is a file; give a checkpoint folder (step-NNNNNNNN) or a run folder", path)
	}
	if _, err := Step(path); err == nil {
		return path, nil
	}
	latest, err := (&Manager{Dir: path}).Latest()
	if err != nil {
		return "", err
	}
	if latest == "" {
		return "", fmt.Errorf("checkpoint %s: not a checkpoint (no valid %s manifest) and holds no complete step-* checkpoint", path, Marker)
	}
	return latest, nil
}

// ReadTokenizer reads the tokenizer stored in a checkpoint (tokenizer.json).
func ReadTokenizer(dir string) (tokenizer.Tokenizer, error) {
	b, err := Read(dir, TokenizerFile)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, TokenizerFile), err)
	}
	return tok, nil
}
