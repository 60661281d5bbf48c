// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"math"
	"os"
	"strconv"
	"testing"
)

// erfMaxUlps bounds Erf's error (measured: 5 ulp, near x = 3.94 where erf(x) rounds to 1).
const erfMaxUlps = 5

// logMaxUlps bounds Log's error (Cephes logf).
const logMaxUlps = 2

// ulpDiff returns the distance in float32 units in the last place between got and want.
func ulpDiff(got, want float32) float64 {
	if got == want || (got != got && want != want) {
		return 0
	}
	if got != got || want != want || math.IsInf(float64(got), 0) || math.IsInf(float64(want), 0) {
		return math.Inf(1)
	}
	toOrdered := func(f float32) int64 {
		b := int64(math.Float32bits(f))
		if b&(1<<31) != 0 {
			return -(b & (1<<31 - 1))
		}
		return b
	}
	return math.Abs(float64(toOrdered(got) - toOrdered(want)))
}

// TestTranscendentalFloat32 sweeps every step-th float32 bit pattern in [-100, 100] (step 997:
// 2.2M values; GOMLX_ULP_SWEEP_STEP=1 for all 2.2G) plus special values, and checks the float32
// Exp, Logistic, Tanh, Erf, Log and Sqrt kernels against math's float64 result rounded to
// float32, in ulps (Sqrt: exact).
func TestTranscendentalFloat32(t *testing.T) {
	backend := newTestBackend(t)
	defer backend.Finalize()
	step := uint32(997)
	if s, err := strconv.Atoi(os.Getenv("GOMLX_ULP_SWEEP_STEP")); err == nil && s > 0 {
		step = uint32(s)
	}
	var inputs []float32
	for b := uint32(0); b < math.Float32bits(100); b += step {
		f := math.Float32frombits(b)
		inputs = append(inputs, f, -f)
	}
	inf := float32(math.Inf(1))
	inputs = append(inputs, 0, inf, -inf, float32(math.NaN()), 88.7, 88.72, 88.8, -87.3, -103, -104, -105,
		1, 1e10, 3e38, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)))
	outputs := make([]float32, len(inputs))
	for _, c := range []struct {
		name    string
		fast    func(in, out []float32) bool
		ref     func(float64) float64
		maxUlps float64
		minOut  float64 // Outputs below this (subnormals) are compared with an absolute tolerance.
	}{
		{"Exp", func(in, out []float32) bool { return execExpFloat32Fast(backend, in, out) }, math.Exp, 2, 1.2e-38},
		{"Logistic", func(in, out []float32) bool { return execLogisticFloat32Fast(backend, in, out) },
			func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 3, 1.2e-38},
		{"Tanh", func(in, out []float32) bool { return execTanhFloat32Fast(backend, in, out) }, math.Tanh, 3, 0},
		{"Erf", func(in, out []float32) bool { return execErfFloat32Fast(backend, in, out) }, math.Erf, erfMaxUlps, 0},
		{"Log", func(in, out []float32) bool { return execLogFloat32Fast(backend, in, out) }, math.Log, logMaxUlps, 0},
		{"Sqrt", func(in, out []float32) bool { return execSqrtFloat32Fast(backend, in, out) }, math.Sqrt, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !c.fast(inputs, outputs) {
				t.Skip("no fast kernel on this platform")
			}
			worst, worstX := 0.0, float32(0)
			for i, x := range inputs {
				want := float32(c.ref(float64(x)))
				if math.Abs(float64(want)) < c.minOut {
					if math.Abs(float64(outputs[i]-want)) > 1e-38 {
						t.Fatalf("%s(%g) = %g, want %g", c.name, x, outputs[i], want)
					}
					continue
				}
				if d := ulpDiff(outputs[i], want); d > worst {
					worst, worstX = d, x
				}
			}
			t.Logf("%s: max error %.0f ulp (at x=%g), %d inputs", c.name, worst, worstX, len(inputs))
			if worst > c.maxUlps {
				t.Errorf("%s: max error %.0f ulp at x=%g, want <= %.0f", c.name, worst, worstX, c.maxUlps)
			}
		})
	}
}

// BenchmarkTranscendentalFloat32 prints ns per element of the float32 kernels and of the
// generic math.* loops they replace, on 1M elements.
func BenchmarkTranscendentalFloat32(b *testing.B) {
	backend := newTestBackend(b)
	defer backend.Finalize()
	in := make([]float32, 1<<20)
	for i := range in {
		in[i] = float32(i%2000)/100 - 10
	}
	out := make([]float32, len(in))
	report := func(b *testing.B, cpu0 int64) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/elem")
		b.ReportMetric(float64(processCPUTime()-cpu0)/float64(b.N)/float64(len(in)), "cpu-ns/elem")
	}
	for _, c := range []struct {
		name    string
		fast    func(in, out []float32) bool
		generic func(in, out []float32)
	}{
		{"Exp", func(in, out []float32) bool { return execExpFloat32Fast(backend, in, out) }, execExpGeneric[float32]},
		{"Logistic", func(in, out []float32) bool { return execLogisticFloat32Fast(backend, in, out) }, execLogisticGeneric[float32]},
		{"Tanh", func(in, out []float32) bool { return execTanhFloat32Fast(backend, in, out) }, execTanhGeneric[float32]},
		{"Log", func(in, out []float32) bool { return execLogFloat32Fast(backend, in, out) }, execLogGeneric[float32]},
		{"Sqrt", func(in, out []float32) bool { return execSqrtFloat32Fast(backend, in, out) }, execSqrtGeneric[float32]},
	} {
		b.Run(c.name+"/fast", func(b *testing.B) {
			cpu0 := processCPUTime()
			for b.Loop() {
				c.fast(in, out)
			}
			report(b, cpu0)
		})
		b.Run(c.name+"/generic", func(b *testing.B) {
			cpu0 := processCPUTime()
			for b.Loop() {
				c.generic(in, out)
			}
			report(b, cpu0)
		})
	}
}
