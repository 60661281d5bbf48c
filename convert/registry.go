package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golem-ml/golem/models/transformer"
)

// Architecture maps one Hugging Face architecture onto golem's transformer.
type Architecture interface {
	// Name is the value of config.json's "architectures" entry, e.g. "LlamaForCausalLM".
	Name() string
	// Config reads config.json into a golem model config, or says which setting golem lacks.
	Config(hf HFConfig) (transformer.Config, error)
	// HFConfig is config.json for cfg, or an error naming the setting this architecture cannot express.
	HFConfig(cfg transformer.Config) (map[string]any, error)
	// Pieces lists the architecture's tensors (HF names and shapes) and where each goes in golem.
	Pieces(cfg transformer.Config) []Piece
	// Ignored says whether a tensor no piece uses may be skipped on import (non-persistent
	// buffers such as GPT-2's causal mask or Llama's rotary inv_freq, which older files hold).
	Ignored(name string) bool
	// Aliases lists other names a tensor may be stored under.
	Aliases(name string) []string
}

var registry = map[string]Architecture{}

// Register adds an architecture under its Name; later registrations replace earlier ones.
func Register(a Architecture) { registry[a.Name()] = a }

// Lookup finds an architecture by its Hugging Face name.
func Lookup(name string) (Architecture, error) {
	if a, ok := registry[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("architecture %q is not supported; golem converts %s", name, strings.Join(Architectures(), ", "))
}

// Architectures lists the registered names, sorted.
func Architectures() []string {
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ForConfig picks the architecture a golem config exports as: the first (by name) whose
// HFConfig accepts it. The error lists why each one refused.
func ForConfig(cfg transformer.Config) (Architecture, error) {
	var why []string
	for _, n := range Architectures() {
		a := registry[n]
		if _, err := a.HFConfig(cfg); err != nil {
			why = append(why, n+": "+err.Error())
			continue
		}
		return a, nil
	}
	return nil, fmt.Errorf("no Hugging Face architecture fits this model:\n  %s", strings.Join(why, "\n  "))
}
