package transformer

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// This file is the model's incremental forward pass for generation with a key/value cache: the
// same blocks as Hidden (norm, linear, mlp, RoPE tables), but each new token attends to the
// keys and values of the earlier positions, which the caller keeps between calls.
//
// Shapes, beyond the legend in model.go: S cache slots (S <= SeqLen), G = H/K query heads per
// key/value head.

// Past is the cache an incremental step attends to. K[l] is layer l's keys stored transposed,
// [B, K, D, S], so that q·Kᵀ is a plain product (on CPU, a row times a matrix, not a dot product
// per slot); V[l] its values [B, K, S, D]. Mask [B, S] is 0 where a slot holds a position of that
// row and -1e30 elsewhere.
type Past struct {
	K, V []*Node
	Mask *Node
}

// Incremental runs new tokens [B, T] int32 at positions pos [B, T] int32 (each row's own
// positions: rows of a batch need not be aligned). The new tokens attend causally among
// themselves and, when past is not nil, to every unmasked slot of past. Returns the final-normed
// hidden states h [B*T, C] and each layer's new keys and values ks[l], vs[l] [B, K, T, D], which
// the caller writes into its cache.
func (m *Model) Incremental(tokens, pos *Node, past *Past) (h *Node, ks, vs []*Node) {
	c := &m.Cfg
	B, T := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	x := Gather(m.w("wte"), Reshape(tokens, B*T, 1)) // [B*T, C]
	if c.Positions == Learned {
		x = Add(x, Gather(m.w("wpe"), Reshape(pos, B*T, 1)))
	}
	var cos, sin *Node // [B, 1, T, D]
	if c.Positions == RoPE {
		cos, sin = m.ropeAt(pos)
	}
	var decodeMask, cos3, sin3 *Node // once for every layer of a decode step
	if past != nil && T == 1 {
		decodeMask = Reshape(past.Mask, B, 1, 1, past.Mask.Shape().Dim(1)) // [B, 1, 1, S]
		if cos != nil {
			cos3, sin3 = Reshape(cos, B, 1, c.HeadDim()), Reshape(sin, B, 1, c.HeadDim()) // [B, 1, D]
		}
	}
	for l := 0; l < c.Layers; l++ {
		p := LayerPrefix(l)
		var a, k, v *Node
		switch {
		case decodeMask != nil:
			a, k, v = m.decodeAttention(m.norm(x, p+"ln1"), p, B, cos3, sin3, past.K[l], past.V[l], decodeMask)
		case past != nil:
			a, k, v = m.cachedAttention(m.norm(x, p+"ln1"), p, B, T, cos, sin, past.K[l], past.V[l], past.Mask)
		default:
			a, k, v = m.cachedAttention(m.norm(x, p+"ln1"), p, B, T, cos, sin, nil, nil, nil)
		}
		ks, vs = append(ks, k), append(vs, v)
		x = Add(x, a)
		x = Add(x, m.mlp(m.norm(x, p+"ln2"), p))
	}
	return m.norm(x, "ln_f"), ks, vs
}

// cachedAttention is causal self-attention over the past slots plus the new tokens:
// x [B*T, C] -> out [B*T, C], new keys and values [B, K, T, D].
func (m *Model) cachedAttention(x *Node, p string, B, T int, cos, sin, pastK, pastV, pastMask *Node) (out, k, v *Node) {
	c := &m.Cfg
	H, K, D := c.Heads, c.KVHeads, c.HeadDim()
	G := H / K
	qkv := m.linear(x, p+"attn/wqkv", p+"attn/bqkv") // [B*T, (H+2K)*D]
	heads := splitHeads(qkv, B, T, D, H, K, K)       // [B, H, T, D], [B, K, T, D] x2
	q, k, v := heads[0], heads[1], heads[2]
	if cos != nil {
		q, k = rotate(q, cos, sin), rotate(k, cos, sin)
	}
	// Group the query heads by the key/value head they share (head h uses h/G): [B, K, G*T, D].
	qg := Reshape(q, B, K, G*T, D)
	scale := 1 / math.Sqrt(float64(D))
	self := DotGeneral(qg, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B, K, G*T, T]
	self = Add(Reshape(MulScalar(ConvertDType(self, dtypes.Float32), scale), B, K, G, T, T),
		Reshape(causalMask(x.Graph(), T), 1, 1, 1, T, T))
	self = Reshape(self, B, K, G*T, T)
	scores := self
	S := 0
	if pastK != nil {
		S = pastK.Shape().Dim(3)
		old := DotGeneral(qg, []int{3}, []int{0, 1}, ConvertDType(pastK, q.DType()), []int{2}, []int{0, 1}) // [B, K, G*T, S]
		old = Add(MulScalar(ConvertDType(old, dtypes.Float32), scale), Reshape(pastMask, B, 1, 1, S))
		scores = Concatenate([]*Node{old, self}, -1) // [B, K, G*T, S+T]
	}
	probs := ConvertDType(softmax(scores), v.DType())
	o := DotGeneral(Slice(probs, AxisRange(), AxisRange(), AxisRange(), AxisRange(S)), []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B, K, G*T, D]
	if pastK != nil {
		pp := Slice(probs, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, S))
		o = Add(o, DotGeneral(pp, []int{3}, []int{0, 1}, ConvertDType(pastV, v.DType()), []int{2}, []int{0, 1}))
	}
	o = Reshape(TransposeAllAxes(Reshape(o, B, H, T, D), 0, 2, 1, 3), B*T, H*D)
	return m.linear(o, p+"attn/wo", p+"attn/bo"), k, v
}

// decodeAttention is cachedAttention for one new token per row (a decode step), written with
// as few graph ops as the Go backend can run: a step of a small model is a few hundred ops of
// a few hundred multiply-adds each, so each op's dispatch, not its arithmetic, is the cost.
// With T = 1 the heads need no transposes ([B, H, D] is [B*T, H*D] reshaped), RoPE rotates q and
// k together, and the token's score against itself and its share of the output are element-wise
// (a batched matmul of 1x1 blocks costs far more to dispatch than it computes).
// x [B, C] -> out [B, C], the token's keys and values [B, K, 1, D]; RoPE tables cos, sin
// [B, 1, D] (nil for learned positions); mask [B, 1, 1, S].
func (m *Model) decodeAttention(x *Node, p string, B int, cos, sin, pastK, pastV, mask *Node) (out, k, v *Node) {
	c := &m.Cfg
	H, K, D := c.Heads, c.KVHeads, c.HeadDim()
	G := H / K
	qkv := m.linear(x, p+"attn/wqkv", p+"attn/bqkv") // [B, (H+2K)*D]
	qk := Reshape(Slice(qkv, AxisRange(), AxisRange(0, (H+K)*D)), B, H+K, D)
	if cos != nil { // cos, sin [B, 1, D]
		qk = rotate3(qk, cos, sin)
	}
	scale := 1 / math.Sqrt(float64(D))
	q := Reshape(MulScalar(Slice(qk, AxisRange(), AxisRange(0, H)), scale), B, K, G, D)
	k = Reshape(Slice(qk, AxisRange(), AxisRange(H, H+K)), B, K, 1, D)
	v = Reshape(Slice(qkv, AxisRange(), AxisRange((H+K)*D, (H+2*K)*D)), B, K, 1, D)
	S := pastK.Shape().Dim(3)
	old := DotGeneral(q, []int{3}, []int{0, 1}, ConvertDType(pastK, q.DType()), []int{2}, []int{0, 1}) // [B, K, G, S]
	old = Add(ConvertDType(old, dtypes.Float32), mask)
	self := ConvertDType(ReduceAndKeep(Mul(q, k), ReduceSum, -1), dtypes.Float32)  // [B, K, G, 1]
	probs := ConvertDType(softmax(Concatenate([]*Node{old, self}, -1)), v.DType()) // [B, K, G, S+1]
	o := DotGeneral(Slice(probs, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, S)), []int{3}, []int{0, 1},
		ConvertDType(pastV, v.DType()), []int{2}, []int{0, 1}) // [B, K, G, D]
	o = Add(o, Mul(Slice(probs, AxisRange(), AxisRange(), AxisRange(), AxisRange(S)), v))
	return m.linear(Reshape(o, B, H*D), p+"attn/wo", p+"attn/bo"), k, v
}

// rotate3 applies RoPE to x [B, n, D] with tables cos, sin [B, 1, D] (see rotate).
func rotate3(x, cos, sin *Node) *Node {
	D := x.Shape().Dim(2)
	x1, x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(0, D/2)), Slice(x, AxisRange(), AxisRange(), AxisRange(D/2))
	rotated := Concatenate([]*Node{Neg(x2), x1}, -1)
	return Add(Mul(x, ConvertDType(cos, x.DType())), Mul(rotated, ConvertDType(sin, x.DType())))
}

// ropeAt gathers the RoPE tables (the same values rope uses) at positions pos [B, T]:
// cos, sin [B, 1, T, D].
func (m *Model) ropeAt(pos *Node) (cos, sin *Node) {
	B, T, D := pos.Shape().Dim(0), pos.Shape().Dim(1), m.Cfg.HeadDim()
	S := m.Cfg.SeqLen
	c, s := ropeTables(S, D, m.Cfg.RopeTheta)
	g := pos.Graph()
	idx := Reshape(pos, B*T, 1)
	cos = Reshape(Gather(Reshape(Const(g, c), S, D), idx), B, 1, T, D)
	sin = Reshape(Gather(Reshape(Const(g, s), S, D), idx), B, 1, T, D)
	return cos, sin
}

// rotate applies RoPE to x [B, n, T, D] with tables cos, sin [B, 1, T, D].
func rotate(x, cos, sin *Node) *Node {
	D := x.Shape().Dim(3)
	x1, x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, D/2)), Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(D/2))
	rotated := Concatenate([]*Node{Neg(x2), x1}, -1)
	return Add(Mul(x, ConvertDType(cos, x.DType())), Mul(rotated, ConvertDType(sin, x.DType())))
}
