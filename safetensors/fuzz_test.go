package safetensors

import (
	"testing"

	"github.com/golem-ml/golem/internal/fuzzseeds"
)

// FuzzParse feeds arbitrary bytes to the header parser. Seeds live in
// testdata/fuzz/FuzzParse/ at the repository root as raw files and run as ordinary tests;
// `go test -fuzz FuzzParse ./safetensors/` explores further and saves failures under
// safetensors/testdata/fuzz/. The parser must never panic, and what it accepts must be
// self-consistent: every tensor's bytes match its shape and lie inside the input.
func FuzzParse(f *testing.F) {
	fuzzseeds.Add(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		for name, ts := range file.Tensors {
			n := int64(DTypeSize[ts.DType])
			for _, d := range ts.Shape {
				n *= int64(d)
			}
			if int64(len(ts.Data)) != n {
				t.Fatalf("%s: %d bytes for shape %v %s", name, len(ts.Data), ts.Shape, ts.DType)
			}
			if ts.DType == "F32" || ts.DType == "F16" || ts.DType == "BF16" {
				if _, err := ts.Float32s(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
