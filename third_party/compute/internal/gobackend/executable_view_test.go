package gobackend_test

import (
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/internal/gobackend/defaultpkgs"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/compute/support/testutil"
)

// golem: a Reshape of a parameter is a view of its bytes (executable.go). The parameter must
// come out of every execution unchanged even when ops after the view could work in place, a
// view returned as an output must be a copy, and the cached view must follow a new input.
func TestReshapeOfParameterIsAView(t *testing.T) {
	for _, config := range []string{"go:ops_sequential", "go"} {
		backend, err := compute.NewWithConfig(config)
		if err != nil {
			t.Fatal(err)
		}
		builder := backend.Builder("view")
		f := builder.Main()
		p := testutil.Must1(f.Parameter("x", shapes.Make(dtypes.Float32, 2, 3), nil))
		r := testutil.Must1(f.Reshape(p, 3, 2))
		neg := testutil.Must1(f.Neg(r))    // would write into r if r were owned
		sum := testutil.Must1(f.Add(r, r)) // two uses of the view
		testutil.Must(f.Return([]compute.Value{r, neg, sum}, nil))
		exec := testutil.Must1(builder.Compile())
		for round, in := range [][]float32{{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1}} {
			x := testutil.Must1(backend.BufferFromFlatData(0, slices.Clone(in), shapes.Make(dtypes.Float32, 2, 3)))
			for range 2 { // the second call reuses the cached view
				outs := testutil.Must1(exec.Execute([]compute.Buffer{x}, nil, 0))
				flat := func(b compute.Buffer) []float32 {
					out := make([]float32, 6)
					testutil.Must(b.ToFlatData(out))
					return out
				}
				var wantNeg, wantSum []float32
				for _, v := range in {
					wantNeg, wantSum = append(wantNeg, -v), append(wantSum, 2*v)
				}
				if got := flat(outs[0]); !slices.Equal(got, in) {
					t.Fatalf("%s round %d: reshape output %v, want %v", config, round, got, in)
				}
				if got := flat(outs[1]); !slices.Equal(got, wantNeg) {
					t.Fatalf("%s round %d: neg %v, want %v", config, round, got, wantNeg)
				}
				if got := flat(outs[2]); !slices.Equal(got, wantSum) {
					t.Fatalf("%s round %d: sum %v, want %v", config, round, got, wantSum)
				}
				// The reshape output is a copy: writing it leaves the parameter alone.
				clear(testutil.Must1(outs[0].Data()).([]float32))
				if got := flat(x); !slices.Equal(got, in) {
					t.Fatalf("%s round %d: parameter changed to %v, want %v", config, round, got, in)
				}
				for _, o := range outs {
					testutil.Must(o.Finalize())
				}
			}
		}
		backend.Finalize()
	}
}
