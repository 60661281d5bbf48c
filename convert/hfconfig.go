package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// MaxConfigSize bounds config.json.
const MaxConfigSize = 4 << 20

// HFConfig is a parsed config.json; the getters say which key is wrong and why.
type HFConfig struct {
	File string
	m    map[string]any
}

// ParseHFConfig decodes config.json bytes; file names it in errors.
func ParseHFConfig(b []byte, file string) (HFConfig, error) {
	if len(b) > MaxConfigSize {
		return HFConfig{}, fmt.Errorf("%s: %d bytes is too large for a config.json", file, len(b))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return HFConfig{}, fmt.Errorf("%s: %w", file, err)
	}
	return HFConfig{File: file, m: m}, nil
}

// Has says whether key is present and not null.
func (c HFConfig) Has(key string) bool { return c.m[key] != nil }

// Raw is the decoded value of key (nil if absent).
func (c HFConfig) Raw(key string) any { return c.m[key] }

// Int reads an integer key; def is used when the key is absent or null (def < 0: required).
func (c HFConfig) Int(key string, def int) (int, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		if def < 0 {
			return 0, fmt.Errorf("%s: %s is missing", c.File, key)
		}
		return def, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %s is %v, want an integer", c.File, key, v)
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i > math.MaxInt32 {
		return 0, fmt.Errorf("%s: %s is %v, want an integer in [0, 2^31)", c.File, key, v)
	}
	return int(i), nil
}

// Float reads a number key, def when absent or null.
func (c HFConfig) Float(key string, def float64) (float64, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %s is %v, want a number", c.File, key, v)
	}
	return n.Float64()
}

// Bool reads a boolean key, def when absent or null.
func (c HFConfig) Bool(key string, def bool) (bool, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: %s is %v, want true or false", c.File, key, v)
	}
	return b, nil
}

// String reads a string key, def when absent or null.
func (c HFConfig) String(key, def string) (string, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s is %v, want a string", c.File, key, v)
	}
	return s, nil
}

// Architecture is the single entry of "architectures".
func (c HFConfig) Architecture() (string, error) {
	list, ok := c.m["architectures"].([]any)
	if !ok || len(list) != 1 {
		return "", fmt.Errorf("%s: architectures is %v; want exactly one name such as [\"LlamaForCausalLM\"]", c.File, c.m["architectures"])
	}
	s, ok := list[0].(string)
	if !ok {
		return "", fmt.Errorf("%s: architectures[0] is %v, want a string", c.File, list[0])
	}
	return s, nil
}

// reader collects the first error of a sequence of getters.
type reader struct {
	c   HFConfig
	err error
}

func (r *reader) int(key string, def int) int {
	v, err := r.c.Int(key, def)
	if r.err == nil {
		r.err = err
	}
	return v
}

func (r *reader) float(key string, def float64) float64 {
	v, err := r.c.Float(key, def)
	if r.err == nil {
		r.err = err
	}
	return v
}

func (r *reader) bool(key string, def bool) bool {
	v, err := r.c.Bool(key, def)
	if r.err == nil {
		r.err = err
	}
	return v
}

func (r *reader) string(key, def string) string {
	v, err := r.c.String(key, def)
	if r.err == nil {
		r.err = err
	}
	return v
}

// fail records an error about key unless one is already recorded.
func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: "+format, append([]any{r.c.File}, args...)...)
	}
}
