package ops_test

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/internal/gobackend/defaultpkgs"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/compute/support/testutil"
)

// golem: a gather of whole rows (an embedding lookup, operand [V, C] and indices [N, 1]) copies
// the rows, out-of-range indices clamped as the general path clamps them; a gather of another
// form (here a column of each row) still takes the general path.
func TestGatherRows(t *testing.T) {
	backend := testutil.Must1(compute.NewWithConfig("go:ops_sequential"))
	defer backend.Finalize()
	const V, C = 5, 3
	table := make([]float32, V*C)
	for i := range table {
		table[i] = float32(i)
	}
	ids := []int32{2, 0, 4, 7, -3} // 7 and -3 clamp to 4 and 0
	for _, rows := range []bool{true, false} {
		builder := backend.Builder("gather")
		f := builder.Main()
		op := testutil.Must1(f.Parameter("table", shapes.Make(dtypes.Float32, V, C), nil))
		idx := testutil.Must1(f.Parameter("ids", shapes.Make(dtypes.Int32, len(ids), 1), nil))
		var out compute.Value
		if rows { // out[i, :] = table[ids[i], :]
			out = testutil.Must1(f.Gather(op, idx, 1, []int{1}, []int{0}, []int{0}, []int{1, C}, false))
		} else { // out[i, 0] = table[ids[i], 0]: one element per row, not whole rows
			out = testutil.Must1(f.Gather(op, idx, 1, []int{1}, []int{0}, []int{0}, []int{1, 1}, false))
		}
		testutil.Must(f.Return([]compute.Value{out}, nil))
		exec := testutil.Must1(builder.Compile())
		tb := testutil.Must1(backend.BufferFromFlatData(0, table, shapes.Make(dtypes.Float32, V, C)))
		ib := testutil.Must1(backend.BufferFromFlatData(0, ids, shapes.Make(dtypes.Int32, len(ids), 1)))
		res := testutil.Must1(exec.Execute([]compute.Buffer{tb, ib}, nil, 0))
		width := C
		if !rows {
			width = 1
		}
		got := make([]float32, len(ids)*width)
		testutil.Must(res[0].ToFlatData(got))
		for i, id := range ids {
			r := min(max(int(id), 0), V-1)
			for j := range width {
				if want := table[r*C+j]; got[i*width+j] != want {
					t.Fatalf("rows=%v: out[%d, %d] = %g, want %g (id %d)", rows, i, j, got[i*width+j], want, id)
				}
			}
		}
	}
}
