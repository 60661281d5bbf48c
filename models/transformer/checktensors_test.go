package transformer

import (
	"strings"
	"testing"
)

// CheckTensors accepts exactly the model's parameters and names the file and the tensor for
// each way a weights file can differ: a missing parameter, a wrong shape, an extra tensor.
func TestCheckTensors(t *testing.T) {
	c := Config{VocabSize: 17, SeqLen: 8, Layers: 1, Width: 8, Heads: 2, Bias: true, Tied: true}
	c.Defaults()
	shapes := func() map[string][]int {
		m := map[string][]int{}
		for _, p := range c.ParamShapes() {
			m[p.Name] = p.Dims
		}
		return m
	}
	if err := c.CheckTensors("w.safetensors", shapes()); err != nil {
		t.Fatalf("the model's own parameters: %v", err)
	}
	first := c.ParamShapes()[0].Name
	missing, wrong, extra := shapes(), shapes(), shapes()
	delete(missing, first)
	wrong[first] = []int{3}
	extra["not_a_param"] = []int{1}
	for what, tc := range map[string]struct {
		shapes map[string][]int
		want   string
	}{
		"missing": {missing, "w.safetensors: missing parameter " + first},
		"shape":   {wrong, "w.safetensors: " + first + " has shape [3], the model wants"},
		"extra":   {extra, `w.safetensors: tensor "not_a_param" is not a parameter of this model`},
	} {
		if err := c.CheckTensors("w.safetensors", tc.shapes); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", what, err, tc.want)
		}
	}
}
