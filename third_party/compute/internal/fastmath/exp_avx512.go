// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fastmath

import (
	"math"
	"simd/archsimd"
)

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

// Log32x16 returns the natural logarithm per lane: Cephes' logf (x = m·2^e with m in
// [√½, √2), log(1+f) by a degree-9 polynomial in f = m-1, ln 2 split in two), 16 lanes at a
// time (golem, see GOLEM_PATCH.md; accuracy measured in ops' TestTranscendentalFloat32).
// Subnormals are scaled by 2^23 first; log(±0) = -Inf, log(x<0) = NaN, log(+Inf) = +Inf, NaN
// stays NaN.
func Log32x16(x archsimd.Float32x16) archsimd.Float32x16 {
	const (
		p0    = 7.0376836292e-2
		p1    = -1.1514610310e-1
		p2    = 1.1676998740e-1
		p3    = -1.2420140846e-1
		p4    = 1.4249322787e-1
		p5    = -1.6668057665e-1
		p6    = 2.0000714765e-1
		p7    = -2.4999993993e-1
		p8    = 3.3333331174e-1
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
	)
	zero := archsimd.BroadcastFloat32x16(0)
	one := archsimd.BroadcastFloat32x16(1)
	subnormal := x.Less(archsimd.BroadcastFloat32x16(1.17549435e-38))
	xs := x.Mul(archsimd.BroadcastFloat32x16(1<<23)).Merge(x, subnormal)
	eAdjust := archsimd.BroadcastFloat32x16(-23).Merge(zero, subnormal)
	// xs = m·2^e with m in [0.5, 1) (frexp), from the bits.
	bits := xs.AsInt32x16()
	e := bits.ShiftAllRight(23).And(archsimd.BroadcastInt32x16(0xff)).Sub(archsimd.BroadcastInt32x16(126)).
		ConvertToFloat32().Add(eAdjust)
	m := bits.And(archsimd.BroadcastInt32x16(0x007fffff)).Or(archsimd.BroadcastInt32x16(0x3f000000)).AsFloat32x16()
	// m < √½: use 2m (in [√½, 1)) and e-1, so that f = m-1 is in [√½-1, √2-1).
	small := m.Less(archsimd.BroadcastFloat32x16(0.707106781186547524))
	e = e.Sub(one.Merge(zero, small))
	f := m.Add(m.Merge(zero, small)).Sub(one)
	z := f.Mul(f)
	y := f.MulAdd(archsimd.BroadcastFloat32x16(p0), archsimd.BroadcastFloat32x16(p1))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p2))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p3))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p4))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p5))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p6))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p7))
	y = y.MulAdd(f, archsimd.BroadcastFloat32x16(p8))
	y = y.Mul(f).Mul(z)
	y = e.MulAdd(archsimd.BroadcastFloat32x16(ln2Lo), y)
	y = z.MulAdd(archsimd.BroadcastFloat32x16(-0.5), y)
	r := e.MulAdd(archsimd.BroadcastFloat32x16(ln2Hi), f.Add(y))
	inf := archsimd.BroadcastFloat32x16(float32(math.Inf(1)))
	r = inf.Mul(archsimd.BroadcastFloat32x16(-1)).Merge(r, x.Equal(zero)) // log(±0) = -Inf
	r = archsimd.BroadcastFloat32x16(float32(math.NaN())).Merge(r, x.Less(zero))
	r = inf.Merge(r, x.Equal(inf))
	return r.Merge(x, x.Equal(x)) // x itself where x is NaN.
}
