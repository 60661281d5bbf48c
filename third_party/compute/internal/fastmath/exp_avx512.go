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
