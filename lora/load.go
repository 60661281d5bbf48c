package lora

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
)

// Load reads the adapter of a LoRA run's checkpoint (or run folder: its newest checkpoint)
// into store, for a base model m. It fails when the adapter was trained on a different model.
// The returned adapter's Wrap puts it on top of the base's weights.
func Load(store *model.Store, m transformer.Config, path string) (*Adapter, error) {
	dir, err := checkpoint.Resolve(path)
	if err != nil {
		return nil, err
	}
	if !checkpoint.Has(dir, AdapterFile) {
		return nil, fmt.Errorf("adapter %s has no %s (not a LoRA run checkpoint?)", dir, AdapterFile)
	}
	mb, err := checkpoint.Read(dir, AdapterConfigFile)
	if err != nil {
		return nil, err
	}
	var meta AdapterMeta
	if err := json.Unmarshal(mb, &meta); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, AdapterConfigFile, err)
	}
	if !sameShape(meta.Model, m) {
		return nil, fmt.Errorf("adapter %s was trained on a different model (%+v) than the base (%+v)", dir, meta.Model, m)
	}
	ab, err := checkpoint.Read(dir, AdapterFile)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(ab)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, AdapterFile, err)
	}
	ad, err := NewAdapter(store, m, Config{Rank: meta.Rank, Alpha: meta.Alpha, Targets: meta.Targets}, 0)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	if err := ad.SetFrom(f, dir+"/"+AdapterFile); err != nil {
		return nil, err
	}
	return ad, nil
}

// sameShape compares model configs, ignoring training-only settings (dropout).
func sameShape(a, b transformer.Config) bool {
	a.Dropout, b.Dropout = 0, 0
	return reflect.DeepEqual(a, b)
}
