package dtypes

import "testing"

// golem: Size answers from a table for the enumerated dtypes; it must equal the Go type's size.
func TestSizeTable(t *testing.T) {
	for dt := DType(1); dt <= Uint1; dt++ {
		var want int
		func() {
			defer func() {
				if recover() != nil {
					want = -1
				}
			}()
			want = int(dt.GoType().Size())
		}()
		if want < 0 {
			continue // not a dtype
		}
		if got := dt.Size(); got != want {
			t.Errorf("%s.Size() = %d, want %d", dt, got, want)
		}
	}
	if Float32.Size() != 4 || BFloat16.Size() != 2 || Int64.Size() != 8 || Bool.Size() != 1 {
		t.Errorf("sizes: float32 %d, bfloat16 %d, int64 %d, bool %d", Float32.Size(), BFloat16.Size(), Int64.Size(), Bool.Size())
	}
}
