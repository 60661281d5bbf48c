package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
)

// Files returns the checkpoint of the trainer as named files. Every value is read back from the
// device; nothing is written that contains a NaN (the step guard keeps them out of the weights).
func (t *Trainer) Files(st checkpoint.State, tok tokenizer.Tokenizer) (map[string][]byte, error) {
	weights := map[string]safetensors.Tensor{}
	optim := map[string]safetensors.Tensor{}
	for v := range t.Store.IterVariables() {
		path := v.Path()
		val, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		switch {
		case strings.HasPrefix(path, ModelScope):
			weights[strings.TrimPrefix(path, ModelScope)] = tensorToST(val)
		case strings.HasPrefix(path, accumScope):
			// accumulators are zero between steps
		default:
			optim[strings.TrimPrefix(path, "/")] = tensorToST(val)
		}
	}
	for name, w := range weights {
		if err := checkFinite(w); err != nil {
			return nil, fmt.Errorf("refusing to checkpoint %s: %w", name, err)
		}
	}
	files := map[string][]byte{}
	var err error
	if files[checkpoint.ModelFile], err = encodeST(weights, map[string]string{"format": "golem", "step": fmt.Sprint(st.Step)}); err != nil {
		return nil, err
	}
	if files[checkpoint.OptimizerFile], err = encodeST(optim, nil); err != nil {
		return nil, err
	}
	if files[checkpoint.StateFile], err = json.MarshalIndent(st, "", "  "); err != nil {
		return nil, err
	}
	if files[checkpoint.ConfigFile], err = config.Marshal(t.Cfg); err != nil {
		return nil, err
	}
	if tok != nil {
		if files[checkpoint.TokenizerFile], err = tok.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Restore loads parameters, optimizer state and RNG from a checkpoint folder and returns the
// loop state. Parameters the checkpoint lacks or whose shapes differ are errors.
func (t *Trainer) Restore(dir string, withOptimizer bool) (checkpoint.State, error) {
	var st checkpoint.State
	b, err := checkpoint.Read(dir, checkpoint.StateFile)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s/%s: %w", dir, checkpoint.StateFile, err)
	}
	mf, err := readST(dir, checkpoint.ModelFile)
	if err != nil {
		return st, err
	}
	if err := t.setVariables(mf, ModelScope, dir+"/"+checkpoint.ModelFile); err != nil {
		return st, err
	}
	if withOptimizer {
		of, err := readST(dir, checkpoint.OptimizerFile)
		if err != nil {
			return st, err
		}
		if err := t.InitOptimizer(); err != nil {
			return st, err
		}
		if err := t.setVariables(of, "/", dir+"/"+checkpoint.OptimizerFile); err != nil {
			return st, err
		}
		t.Step, t.BadInRow = st.Step, st.BadInRow
	}
	return st, nil
}

// setVariables copies every tensor of f into the existing variable prefix+name. The model file
// must hold exactly the model's parameters (transformer.Config.CheckTensors); other files'
// tensors without a variable are skipped.
func (t *Trainer) setVariables(f *safetensors.File, prefix, file string) error {
	if prefix == ModelScope {
		if err := t.Cfg.Model.CheckTensors(file, f.Shapes()); err != nil {
			return err
		}
	}
	for name, st := range f.Tensors {
		v := t.Store.GetVariable(prefix + name)
		if v == nil {
			continue
		}
		if !slices.Equal(v.Shape().Dimensions, st.Shape) {
			return fmt.Errorf("%s: %s has shape %v, the model wants %v", file, name, st.Shape, v.Shape().Dimensions)
		}
		fresh := tensors.FromShape(v.Shape())
		if err := setTensor(fresh, st); err != nil {
			return fmt.Errorf("%s: %s: %w", file, name, err)
		}
		if err := v.SetValue(fresh); err != nil {
			return err
		}
	}
	return nil
}

// tensorToST copies a GoMLX tensor into a safetensors tensor, byte for byte.
func tensorToST(t *tensors.Tensor) safetensors.Tensor {
	var dtype string
	switch t.DType().String() {
	case "Float32":
		dtype = "F32"
	case "Uint64":
		dtype = "U64"
	case "Int32":
		dtype = "I32"
	case "Int64":
		dtype = "I64"
	default:
		panic("tensorToST: unsupported dtype " + t.DType().String())
	}
	var data []byte
	if err := t.ConstBytes(func(b []byte) { data = append([]byte(nil), b...) }); err != nil {
		panic(err)
	}
	return safetensors.Tensor{DType: dtype, Shape: append([]int{}, t.Shape().Dimensions...), Data: data}
}

// setTensor overwrites t's bytes with st's, converting half-precision floats to float32.
func setTensor(t *tensors.Tensor, st safetensors.Tensor) error {
	data := st.Data
	if t.DType().String() == "Float32" && st.DType != "F32" {
		f, err := st.Float32s()
		if err != nil {
			return err
		}
		data = safetensors.F32(f).Data
	}
	var err error
	if e := t.MutableBytes(func(b []byte) {
		if len(b) != len(data) {
			err = fmt.Errorf("size %d bytes, want %d", len(data), len(b))
			return
		}
		copy(b, data)
	}); e != nil {
		return e
	}
	return err
}

func checkFinite(t safetensors.Tensor) error {
	if t.DType != "F32" {
		return nil
	}
	for i := 0; i+4 <= len(t.Data); i += 4 {
		f := math.Float32frombits(binary.LittleEndian.Uint32(t.Data[i:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("element %d is %v", i/4, f)
		}
	}
	return nil
}

func encodeST(ts map[string]safetensors.Tensor, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readST(dir, name string) (*safetensors.File, error) {
	b, err := checkpoint.Read(dir, name)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, name, err)
	}
	return f, nil
}
