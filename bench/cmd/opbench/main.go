// Command opbench times single Go-backend ops on training-sized tensors (ns per element), to
// locate per-op costs seen in the training profile (e.g. generic Exp vs the fused softmax).
//
//	GOEXPERIMENT=simd go run ./bench/cmd/opbench
package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
)

func main() {
	backend, err := compute.NewWithConfig("go")
	if err != nil {
		panic(err)
	}
	n := 1 << 20
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(i%97)*0.05 - 2.4
	}
	x := tensors.FromFlatDataAndDimensions(data, 1024, 1024)
	ops := []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"Add", func(x *Node) *Node { return Add(x, x) }},
		{"Mul", func(x *Node) *Node { return Mul(x, x) }},
		{"MulScalar", func(x *Node) *Node { return MulScalar(x, 3) }},
		{"Add row-broadcast", func(x *Node) *Node { return Add(x, ReduceAndKeep(x, ReduceMax, -1)) }},
		{"Mul [N,V]x[N,1]", func(x *Node) *Node { return Mul(x, ReduceAndKeep(x, ReduceMax, -1)) }},
		{"Mul [N,V]x[1,V]", func(x *Node) *Node { return Mul(x, ReduceAndKeep(x, ReduceMax, 0)) }},
		{"Mul [N,V]x[N,V] (explicit bcast)", func(x *Node) *Node {
			return Mul(x, BroadcastToDims(ReduceAndKeep(x, ReduceMax, -1), 1024, 1024))
		}},
		{"ReduceMax last", func(x *Node) *Node { return ReduceMax(x, -1) }},
		{"Exp", func(x *Node) *Node { return Exp(x) }},
		{"Expm1", func(x *Node) *Node { return Expm1(x) }},
		{"Log", func(x *Node) *Node { return Log(Abs(x)) }},
		{"Abs", func(x *Node) *Node { return Abs(x) }},
		{"Erf", func(x *Node) *Node { return Erf(x) }},
		{"Tanh", func(x *Node) *Node { return Tanh(x) }},
		{"Logistic", func(x *Node) *Node { return Logistic(x) }},
		{"Softmax (fused)", func(x *Node) *Node { return Softmax(x, -1) }},
		{"Gelu (fused)", func(x *Node) *Node { return activation.Gelu(x) }},
		{"ReduceSum last", func(x *Node) *Node { return ReduceSum(x, -1) }},
		{"ReduceSum first", func(x *Node) *Node { return ReduceSum(x, 0) }},
		{"Transpose", func(x *Node) *Node { return Transpose(x, 0, 1) }},
		{"Transpose 0213", func(x *Node) *Node {
			return Reshape(TransposeAllAxes(Reshape(x, 16, 64, 8, 128), 0, 2, 1, 3), 1024, 1024)
		}},
		{"Transpose 0213 D=64", func(x *Node) *Node {
			return Reshape(TransposeAllAxes(Reshape(x, 8, 256, 8, 64), 0, 2, 1, 3), 1024, 1024)
		}},
		{"Gather rows D=64 (0213)", func(x *Node) *Node {
			B, T, H, D := 8, 256, 8, 64
			idx := make([]int32, 0, B*T*H)
			for b := 0; b < B; b++ {
				for h := 0; h < H; h++ {
					for t := 0; t < T; t++ {
						idx = append(idx, int32(b*T*H+t*H+h))
					}
				}
			}
			rows := Gather(Reshape(x, B*T*H, D), Reshape(Const(x.Graph(), idx), B*T*H, 1))
			return Reshape(rows, 1024, 1024)
		}},
		{"Transpose 2D [2048,512]", func(x *Node) *Node { return Transpose(Reshape(x, 2048, 512), 0, 1) }},
		{"Transpose batched [32,64,512]", func(x *Node) *Node { return TransposeAllAxes(Reshape(x, 32, 64, 512), 0, 2, 1) }},
		{"Transpose [8,8,256,64]->[..,64,256]", func(x *Node) *Node { return TransposeAllAxes(Reshape(x, 8, 8, 256, 64), 0, 1, 3, 2) }},
		{"Where", func(x *Node) *Node { return Where(GreaterThan(x, ZerosLike(x)), x, ZerosLike(x)) }},
	}
	for _, op := range ops {
		exec := MustNewExec(backend, op.fn)
		var ts []float64
		for i := 0; i < 7; i++ {
			start := time.Now()
			out := exec.MustCall1(x)
			out.MaterializeLocal()
			if i > 0 {
				ts = append(ts, float64(time.Since(start).Nanoseconds())/float64(n))
			}
			out.FinalizeAll()
		}
		sort.Float64s(ts)
		fmt.Printf("%-20s %6.2f ns/element (median of 6, 1M elements)\n", op.name, ts[len(ts)/2])
		exec.Finalize()
	}
}
