// Command matmulbench times the float32 matmul shapes of the small benchmark config on the Go
// backend (GFLOP/s, median of 5), in the layouts the training step uses; compare with
// bench/matmul_torch.py on the same machine.
//
//	GOEXPERIMENT=simd go run ./bench/cmd/matmulbench [-only q·kᵀ] [-reps 5] [-cpuprofile FILE]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func fill(dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i%13) * 0.01
	}
	return tensors.FromFlatDataAndDimensions(d, dims...)
}

func main() {
	only := flag.String("only", "", "run only the shapes whose name contains this")
	reps := flag.Int("reps", 5, "timed calls per shape (after one warm-up call); the median is printed")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed calls to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatalf("creating the CPU profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("starting the CPU profile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	backend, err := compute.NewWithConfig("go")
	if err != nil {
		panic(err)
	}
	type mm struct {
		name  string
		a, b  []int
		flops float64
		fn    func(a, b *Node) *Node
	}
	N, C, F, V, BH, T, D := 2048, 384, 1536, 8192, 48, 256, 64
	cases := []mm{
		{"x[N,C]·W[C,F] (MLP up, fwd)", []int{N, C}, []int{C, F}, 2 * float64(N*C*F), func(a, b *Node) *Node { return MatMul(a, b) }},
		{"h[N,F]·W[F,C] (MLP down, fwd)", []int{N, F}, []int{F, C}, 2 * float64(N*C*F), func(a, b *Node) *Node { return MatMul(a, b) }},
		{"dy[N,F]·Wᵀ (dx, rhs transposed layout)", []int{N, F}, []int{C, F}, 2 * float64(N*C*F), func(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{1}, nil) }},
		{"xᵀ·dy (dW, lhs contracting axis 0)", []int{N, C}, []int{N, F}, 2 * float64(N*C*F), func(a, b *Node) *Node { return DotGeneral(a, []int{0}, nil, b, []int{0}, nil) }},
		{"x[N,C]·wteᵀ (tied head)", []int{N, C}, []int{V, C}, 2 * float64(N*C*V), func(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{1}, nil) }},
		{"q·kᵀ [B·H,T,D] batched", []int{BH, T, D}, []int{BH, T, D}, 2 * float64(BH*T*T*D), func(a, b *Node) *Node { return DotGeneral(a, []int{2}, []int{0}, b, []int{2}, []int{0}) }},
		{"2048³", []int{2048, 2048}, []int{2048, 2048}, 2 * 2048 * 2048 * 2048, func(a, b *Node) *Node { return MatMul(a, b) }},
	}
	for _, c := range cases {
		if !strings.Contains(c.name, *only) {
			continue
		}
		exec := MustNewExec(backend, c.fn)
		a, b := fill(c.a...), fill(c.b...)
		var gs []float64
		for i := 0; i <= *reps; i++ {
			// The Go backend computes before Call returns. Copying the output to a host tensor
			// (MaterializeLocal) is not part of the matmul and PyTorch's side does no such copy:
			// it was a quarter of the q·kᵀ time (a 12 MiB copy, and garbage that emptied the
			// backend's buffer pool, so every call also cleared a fresh output buffer).
			start := time.Now()
			out := exec.MustCall1(a, b)
			if i > 0 {
				gs = append(gs, c.flops/time.Since(start).Seconds()/1e9)
			}
			out.FinalizeAll()
		}
		sort.Float64s(gs)
		fmt.Printf("%-42s %6.1f GFLOP/s\n", c.name, gs[len(gs)/2])
		exec.Finalize()
	}
}
