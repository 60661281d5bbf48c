package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
)

// Piece maps one foreign tensor onto (part of) one golem parameter. A golem matrix is
// [rows, cols] = [in, out]; a vector is one row. The piece fills columns [Col, Col+n).
//
//   - Transpose false: the foreign tensor is [rows, n] (or [n] for a vector) in the same
//     orientation: golem[r][Col+j] = foreign[r][j]. (GPT-2's Conv1D, embeddings, norms.)
//   - Transpose true: the foreign tensor is [n, rows], a torch nn.Linear weight [out, in]:
//     golem[r][Col+j] = foreign[Perm[j]][r], with Perm the identity when nil. (Llama's
//     projections; llama2.c's q and k use Perm to turn interleaved RoPE pairs into halves.)
type Piece struct {
	Src       string // foreign tensor name
	Dims      []int  // foreign shape
	Dst       string // golem parameter name
	Col       int    // first golem column the piece fills
	Transpose bool
	Perm      []int
}

func (p Piece) size() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// checkPieces verifies that the pieces tile every parameter of cfg exactly once: a
// registry entry that forgets a tensor is a bug caught here, not a silent zero.
func checkPieces(cfg transformer.Config, pieces []Piece) error {
	shapes := paramDims(cfg)
	cover := map[string]int{}
	for _, p := range pieces {
		dims, ok := shapes[p.Dst]
		if !ok {
			return fmt.Errorf("mapping bug: %s -> %s, which is not a parameter of this config", p.Src, p.Dst)
		}
		rows, cols := matrix(dims)
		n := p.size() / max(rows, 1)
		if p.size() != rows*n || p.Col < 0 || p.Col+n > cols {
			return fmt.Errorf("mapping bug: %s %v does not fit %s %v at column %d", p.Src, p.Dims, p.Dst, dims, p.Col)
		}
		cover[p.Dst] += p.size()
	}
	for name, dims := range shapes {
		rows, cols := matrix(dims)
		if cover[name] != rows*cols {
			return fmt.Errorf("mapping bug: %s %v is covered by %d of %d values", name, dims, cover[name], rows*cols)
		}
	}
	return nil
}

// matrix views a golem shape as [rows, cols].
func matrix(dims []int) (int, int) {
	switch len(dims) {
	case 1:
		return 1, dims[0]
	case 2:
		return dims[0], dims[1]
	}
	panic(fmt.Sprintf("golem parameter of rank %d", len(dims)))
}

// source yields foreign tensors by name; release is a hint that a tensor is no longer needed.
type source struct {
	file    string // for error messages
	tensors map[string]safetensors.Tensor
	release func(name string)
	// alias lists other names a tensor may have (GPT-2 files with or without "transformer.").
	alias func(name string) []string
	// allowNonfinite copies NaN/Inf weights; by default the first one fails the import.
	allowNonfinite bool
}

func (s *source) get(name string) (string, safetensors.Tensor, bool) {
	if t, ok := s.tensors[name]; ok {
		return name, t, true
	}
	if s.alias != nil {
		for _, a := range s.alias(name) {
			if t, ok := s.tensors[a]; ok {
				return a, t, true
			}
		}
	}
	return "", safetensors.Tensor{}, false
}

// fill copies every piece from src into m, converting to float32 and golem's layout.
// ignored says which foreign tensors no piece uses may be skipped; any other leftover is an
// error, since it means the file holds a model other than the config describes.
func fill(m *Model, pieces []Piece, src *source, ignored func(string) bool, hint string) error {
	if err := checkPieces(m.Config, pieces); err != nil {
		return err
	}
	// Check everything before copying anything.
	type job struct {
		p    Piece
		name string
		t    safetensors.Tensor
	}
	jobs := make([]job, 0, len(pieces))
	used := map[string]bool{}
	for _, p := range pieces {
		name, t, ok := src.get(p.Src)
		if !ok {
			return fmt.Errorf("%s: tensor %s %v is missing (%s)", src.file, p.Src, p.Dims, hint)
		}
		used[name] = true
		if !slices.Equal(t.Shape, p.Dims) {
			return fmt.Errorf("%s: tensor %s has shape %v, but config.json implies %v (%s)", src.file, name, t.Shape, p.Dims, hint)
		}
		if t.DType != "F32" && t.DType != "BF16" && t.DType != "F16" {
			return fmt.Errorf("%s: tensor %s is %s; only F32, F16 and BF16 weights can be imported", src.file, name, t.DType)
		}
		jobs = append(jobs, job{p, name, t})
	}
	var extra []string
	for name := range src.tensors {
		if !used[name] && (ignored == nil || !ignored(name)) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 5 {
			extra = append(extra[:5], "...")
		}
		return fmt.Errorf("%s: tensors %s are not part of the model config.json describes (%s)", src.file, strings.Join(extra, ", "), hint)
	}
	// Convert on every core: pieces write disjoint parts of the parameters.
	dims := paramDims(m.Config)
	next := make(chan job)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	fail := func(err error) { // keep the first errors; never block a worker on a full channel
		select {
		case errs <- err:
		default:
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []float32 // reused across tensors: no garbage proportional to the model
			for j := range next {
				vals, err := decode(j.t, &scratch)
				if err != nil {
					fail(fmt.Errorf("%s: tensor %s: %w", src.file, j.name, err))
					continue
				}
				if !src.allowNonfinite {
					if i := nonfinite(vals); i >= 0 {
						fail(fmt.Errorf("%s: tensor %s: element %d is %v; the file holds broken weights (pass --allow-nonfinite to import them anyway)", src.file, j.name, i, vals[i]))
						continue
					}
				}
				rows, cols := matrix(dims[j.p.Dst])
				place(m.Params[j.p.Dst], rows, cols, vals, j.p, true)
				if src.release != nil {
					src.release(j.name)
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// nonfinite is the index of the first NaN or ±Inf in v, or -1.
func nonfinite(v []float32) int {
	for i, x := range v {
		if x-x != 0 { // NaN - NaN and Inf - Inf are NaN; finite x - x is 0
			return i
		}
	}
	return -1
}

// extract returns the foreign tensor of piece p from m's parameters, in buf when it is large enough.
func extract(m *Model, p Piece, buf []float32) []float32 {
	if cap(buf) < p.size() {
		buf = make([]float32, p.size())
	}
	out := buf[:p.size()]
	rows, cols := matrix(paramDims(m.Config)[p.Dst])
	place(m.Params[p.Dst], rows, cols, out, p, false)
	return out
}

// decode gives a tensor's values as float32: F32 data is viewed in place (no copy), F16 and
// BF16 are converted into *scratch, which grows to the largest tensor and is reused.
func decode(t safetensors.Tensor, scratch *[]float32) ([]float32, error) {
	if t.DType == "F32" {
		return floats(t.Data), nil
	}
	size, ok := safetensors.DTypeSize[t.DType]
	if !ok || (t.DType != "BF16" && t.DType != "F16") {
		return nil, fmt.Errorf("dtype %s is not a float type", t.DType)
	}
	n := len(t.Data) / size
	if cap(*scratch) < n {
		*scratch = make([]float32, n)
	}
	out := (*scratch)[:n]
	if t.DType == "BF16" {
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
		return out, nil
	}
	v, err := t.Float32s()
	copy(out, v)
	return out, err
}

// place copies between a golem parameter g [rows, cols] and a foreign tensor f of piece p:
// f into g when in is true, g into f otherwise.
func place(g []float32, rows, cols int, f []float32, p Piece, in bool) {
	n := len(f) / rows
	if !p.Transpose {
		for r := 0; r < rows; r++ {
			gr, fr := g[r*cols+p.Col:r*cols+p.Col+n], f[r*n:(r+1)*n]
			if in {
				copy(gr, fr)
			} else {
				copy(fr, gr)
			}
		}
		return
	}
	// foreign [n, rows] <-> golem [rows, cols]: a transpose, done in 64x64 tiles so both
	// sides stay in cache (a plain loop strides through golem by a whole row per element).
	const tile = 64
	for j0 := 0; j0 < n; j0 += tile {
		j1 := min(j0+tile, n)
		for r0 := 0; r0 < rows; r0 += tile {
			r1 := min(r0+tile, rows)
			for j := j0; j < j1; j++ {
				fj := j
				if p.Perm != nil {
					fj = p.Perm[j]
				}
				fr := f[fj*rows+r0 : fj*rows+r1]
				c := p.Col + j + r0*cols
				if in {
					for r, v := range fr {
						g[c+r*cols] = v
					}
				} else {
					for r := range fr {
						fr[r] = g[c+r*cols]
					}
				}
			}
		}
	}
}

// paramDims maps each parameter name of cfg to its shape.
func paramDims(cfg transformer.Config) map[string][]int {
	out := map[string][]int{}
	for _, p := range cfg.ParamShapes() {
		out[p.Name] = p.Dims
	}
	return out
}
