// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fastmath

import "simd/archsimd"

// Exp32x16 returns e^x per lane, within 2 ulp of math.Exp over the float32 range; overflow gives
// +Inf, underflow subnormals then 0, NaN stays NaN. The same algorithm as Exp32 (Cephes expf),
// 16 lanes at a time (golem, see GOLEM_PATCH.md); tested in ops (TestTranscendentalFloat32).
func Exp32x16(x archsimd.Float32x16) archsimd.Float32x16 {
	const (
		log2E = 1.44269504088896341
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
		p7    = 1.9875691500e-4
		p6    = 1.3981999507e-3
		p5    = 8.3334519073e-3
		p4    = 4.1665795894e-2
		p3    = 1.6666665459e-1
		p2    = 5.0000001201e-1
	)
	// Clamp so that n = round(x / ln 2) stays in [-150, 128] (both halves of 2^n are normal).
	xc := x.Max(archsimd.BroadcastFloat32x16(-104)).Min(archsimd.BroadcastFloat32x16(88.8))
	z := xc.Mul(archsimd.BroadcastFloat32x16(log2E)).RoundToEvenScaled(0)
	g := z.MulAdd(archsimd.BroadcastFloat32x16(-ln2Hi), xc)
	g = z.MulAdd(archsimd.BroadcastFloat32x16(-ln2Lo), g)
	p := g.MulAdd(archsimd.BroadcastFloat32x16(p7), archsimd.BroadcastFloat32x16(p6))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p5))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p4))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p3))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p2))
	p = p.MulAdd(g.Mul(g), g.Add(archsimd.BroadcastFloat32x16(1)))
	// 2^n as 2^(n>>1) * 2^(n-(n>>1)).
	n := z.ConvertToInt32()
	n1 := n.ShiftAllRight(1)
	n2 := n.Sub(n1)
	bias := archsimd.BroadcastInt32x16(127)
	s1 := n1.Add(bias).ShiftAllLeft(23).AsFloat32x16()
	s2 := n2.Add(bias).ShiftAllLeft(23).AsFloat32x16()
	return p.Mul(s1).Mul(s2).Merge(x, x.Equal(x)) // x itself where x is NaN.
}

// Erf32x16 returns erf(x) per lane: x·P(x²)/Q(x²) on x clamped to [-4, 4] (erf(±4) rounds to
// ±1 in float32), the rational approximation of Eigen's generic_fast_erf_float / XLA's
// ErfImpl32 (golem, see GOLEM_PATCH.md; accuracy measured in ops' TestTranscendentalFloat32).
func Erf32x16(x archsimd.Float32x16) archsimd.Float32x16 {
	const (
		a13 = -2.72614225801306e-10
		a11 = 2.77068142495902e-08
		a9  = -2.10102402082508e-06
		a7  = -5.69250639462346e-05
		a5  = -7.34990630326855e-04
		a3  = -2.95459980854025e-03
		a1  = -1.60960333262415e-02
		b8  = -1.45660718464996e-05
		b6  = -2.13374055278905e-04
		b4  = -1.68282697438203e-03
		b2  = -7.37332916720468e-03
		b0  = -1.42647390514189e-02
	)
	xc := x.Max(archsimd.BroadcastFloat32x16(-4)).Min(archsimd.BroadcastFloat32x16(4))
	x2 := xc.Mul(xc)
	p := x2.MulAdd(archsimd.BroadcastFloat32x16(a13), archsimd.BroadcastFloat32x16(a11))
	p = p.MulAdd(x2, archsimd.BroadcastFloat32x16(a9))
	p = p.MulAdd(x2, archsimd.BroadcastFloat32x16(a7))
	p = p.MulAdd(x2, archsimd.BroadcastFloat32x16(a5))
	p = p.MulAdd(x2, archsimd.BroadcastFloat32x16(a3))
	p = p.MulAdd(x2, archsimd.BroadcastFloat32x16(a1))
	q := x2.MulAdd(archsimd.BroadcastFloat32x16(b8), archsimd.BroadcastFloat32x16(b6))
	q = q.MulAdd(x2, archsimd.BroadcastFloat32x16(b4))
	q = q.MulAdd(x2, archsimd.BroadcastFloat32x16(b2))
	q = q.MulAdd(x2, archsimd.BroadcastFloat32x16(b0))
	return xc.Mul(p.Div(q)).Merge(x, x.Equal(x)) // x itself where x is NaN.
}
