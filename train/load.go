package train

import (
	"path/filepath"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
)

// ReadConfig reads the run config stored in a checkpoint. (To use a checkpoint's model, open
// it with inference.Open, which needs only the model section.)
func ReadConfig(dir string) (Config, error) {
	cfg := DefaultConfig()
	b, err := checkpoint.Read(dir, checkpoint.ConfigFile)
	if err != nil {
		return cfg, err
	}
	if err := config.Decode(b, filepath.Join(dir, checkpoint.ConfigFile), &cfg); err != nil {
		return cfg, err
	}
	cfg.Model.Defaults()
	return cfg, cfg.Model.Validate()
}
