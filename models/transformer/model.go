// Package transformer is golem's decoder-only language model: GPT-2 and Llama in one file.
//
// Shape letters, used in every comment:
//
//	B batch, T sequence, C width, H query heads, K key/value heads, D head size (C/H),
//	F MLP hidden width, V vocabulary.
//
// The model reads its parameters through a Weights function, so the same code serves
// training (variables of a GoMLX store), inference, and LoRA (which returns W + scale·A·B).
package transformer

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/attention"
)

// Weights returns the graph node of a parameter by its name (see Config.ParamShapes).
type Weights func(name string) *Node

// Model builds the forward graph of one configuration.
type Model struct {
	Cfg Config
	W   Weights
	// Dropout, when not nil, is the RNG state used for dropout during training; it is advanced
	// as the graph is built and must be written back by the caller (see RNG).
	RNG *Node
	// ComputeDType is the dtype of activations and matmuls (Float32, or BFloat16 with float32
	// master weights); norms, softmax and the loss always run in float32.
	ComputeDType dtypes.DType
	// Checkpoint recomputes each block's activations during the backward pass instead of keeping
	// them (activation / gradient checkpointing): less memory for about a third more compute.
	Checkpoint bool
	// KeepAttention makes the model record each layer's attention probabilities in Attention,
	// for inspection (attention maps); it takes the unfused attention path. Training leaves it
	// false.
	KeepAttention bool
	Attention     []*Node // per layer [B, H, T, T] float32, row i the weights of query i
}

// Logits runs the model: tokens [B, T] int32 -> logits [B, T, V] float32.
func (m *Model) Logits(tokens *Node) *Node {
	x := m.Hidden(tokens) // [B*T, C]
	B, T := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	return Reshape(m.Head(x), B, T, m.Cfg.VocabSize)
}

// Head projects the final hidden states onto the vocabulary: x [N, C] -> logits [N, V] float32.
func (m *Model) Head(x *Node) *Node {
	if m.Cfg.Tied {
		// x @ wte^T without materialising the transpose: contract C with C.
		w := m.w("wte")
		return ConvertDType(matmulT(x, w), dtypes.Float32)
	}
	return ConvertDType(m.linear(x, "lm_head", ""), dtypes.Float32)
}

// Hidden runs the embedding and all blocks: tokens [B, T] -> final-normed hidden states [B*T, C].
func (m *Model) Hidden(tokens *Node) *Node {
	c := &m.Cfg
	B, T := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	x := Gather(m.w("wte"), Reshape(tokens, B*T, 1)) // [B*T, C]
	if c.Positions == Learned {
		pos := Slice(m.w("wpe"), AxisRange(0, T)) // [T, C]
		x = Reshape(Add(Reshape(x, B, T, c.Width), ExpandAxes(pos, 0)), B*T, c.Width)
	}
	x = m.dropout(x)
	for l := 0; l < c.Layers; l++ {
		p := LayerPrefix(l)
		if m.Checkpoint {
			x = x.Checkpoint() // only the block's input is kept for the backward pass
		}
		x = Add(x, m.dropout(m.attention(m.norm(x, p+"ln1"), p, B, T)))
		x = Add(x, m.dropout(m.mlp(m.norm(x, p+"ln2"), p)))
	}
	if m.Checkpoint {
		x = x.StopCheckpoint()
	}
	return m.norm(x, "ln_f")
}

// attention is causal self-attention: x [B*T, C] -> [B*T, C].
func (m *Model) attention(x *Node, p string, B, T int) *Node {
	c := &m.Cfg
	H, K, D := c.Heads, c.KVHeads, c.HeadDim()
	qkv := m.linear(x, p+"attn/wqkv", p+"attn/bqkv") // [B*T, (H+2K)*D]
	qkvHeads := splitHeads(qkv, B, T, D, H, K, K)    // each [B, n, T, D]
	q, k, v := qkvHeads[0], qkvHeads[1], qkvHeads[2]
	if c.Positions == RoPE {
		q, k = m.rope(q), m.rope(k)
	}
	var out *Node // [B, H, T, D]
	caps := x.Graph().Backend().Capabilities()
	if !m.KeepAttention && caps.Operations[compute.OpTypeFusedScaledDotProductAttention] && caps.Operations[compute.OpTypeFusedScaledDotProductAttentionVJP] {
		// Flash attention (cuDNN on XLA/CUDA), forward and backward; handles K < H itself.
		out, _ = attention.Core(q, k, v, attention.LayoutBHSD, attention.CoreOptions{UseCausalMask: true})
	} else {
		if K != H { // grouped-query: each of the K heads serves H/K query heads.
			k = Reshape(BroadcastToDims(ExpandAxes(k, 2), B, K, H/K, T, D), B, H, T, D)
			v = Reshape(BroadcastToDims(ExpandAxes(v, 2), B, K, H/K, T, D), B, H, T, D)
		}
		scores := batchedQKt(q, k) // [B, H, T, T]
		scores = Add(MulScalar(ConvertDType(scores, dtypes.Float32), 1/math.Sqrt(float64(D))), causalMask(x.Graph(), T))
		probs := softmax(scores) // fused, closed-form backward
		if m.KeepAttention {
			m.Attention = append(m.Attention, probs)
		}
		probs = ConvertDType(probs, v.DType())
		out = batchedPV(probs, v) // [B, H, T, D]
	}
	out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3), B*T, H*D)
	return m.linear(out, p+"attn/wo", p+"attn/bo")
}

// causalMask is 0 on and below the diagonal and -1e30 above: [1, 1, T, T], added to the scores.
func causalMask(g *Graph, T int) *Node {
	mask := make([]float32, T*T)
	for i := 0; i < T; i++ {
		for j := i + 1; j < T; j++ {
			mask[i*T+j] = -1e30
		}
	}
	return Reshape(Const(g, mask), 1, 1, T, T)
}

// rope rotates x [B, n, T, D] by position, in Llama's half-split layout: the pair (x[i], x[i+D/2])
// is rotated by angle t·θ^(-2i/D).
func (m *Model) rope(x *Node) *Node {
	T, D := x.Shape().Dim(2), x.Shape().Dim(3)
	cos, sin := ropeTables(T, D, m.Cfg.RopeTheta)
	g := x.Graph()
	return rotate(x, Reshape(Const(g, cos), 1, 1, T, D), Reshape(Const(g, sin), 1, 1, T, D))
}

// ropeTables are cos and sin of the RoPE angles for positions [0, T): each [T*D].
func ropeTables(T, D int, theta float64) (cos, sin []float32) {
	cos, sin = make([]float32, T*D), make([]float32, T*D)
	for t := 0; t < T; t++ {
		for i := 0; i < D/2; i++ {
			a := float64(t) * math.Pow(theta, -2*float64(i)/float64(D))
			cos[t*D+i], cos[t*D+i+D/2] = float32(math.Cos(a)), float32(math.Cos(a))
			sin[t*D+i], sin[t*D+i+D/2] = float32(math.Sin(a)), float32(math.Sin(a))
		}
	}
	return cos, sin
}

// mlp is the feed-forward block: x [B*T, C] -> [B*T, C].
func (m *Model) mlp(x *Node, p string) *Node {
	var h *Node // [B*T, F]
	switch m.Cfg.MLP {
	case SwiGLU:
		h = Mul(activation.Swish(m.linear(x, p+"mlp/w_gate", "")), m.linear(x, p+"mlp/w_up", p+"mlp/b_up"))
	case GELUTanh:
		h = m.linear(x, p+"mlp/w_up", p+"mlp/b_up")
		h = Mul(MulScalar(h, 0.5), OnePlus(Tanh(MulScalar(Add(h, MulScalar(Mul(h, Mul(h, h)), 0.044715)), math.Sqrt(2/math.Pi)))))
	default:
		h = m.linear(x, p+"mlp/w_up", p+"mlp/b_up")
		if h.DType() == dtypes.Float32 {
			h = gelu(h) // fused, closed-form backward
		} else { // the fused GELU is float32-only on the Go backend
			h = ConvertDType(gelu(ConvertDType(h, dtypes.Float32)), h.DType())
		}
	}
	return m.linear(h, p+"mlp/w_down", p+"mlp/b_down")
}

// norm is LayerNorm or RMSNorm over C, computed in float32: x [N, C] -> [N, C].
func (m *Model) norm(x *Node, p string) *Node {
	dt := x.DType()
	x = ConvertDType(x, dtypes.Float32)
	gain := m.W(p + "/gain")
	if m.Cfg.Norm == RMSNorm {
		ms := ReduceAndKeep(Square(x), ReduceMean, -1)
		x = Mul(Div(x, Sqrt(AddScalar(ms, m.Cfg.NormEps))), ExpandLeftToRank(gain, x.Rank())) // (Rsqrt has no gradient in GoMLX)
	} else {
		var bias *Node
		if m.Cfg.Bias {
			bias = m.W(p + "/bias")
		}
		x = layerNorm(x, gain, bias, m.Cfg.NormEps) // fused, closed-form backward
	}
	return ConvertDType(x, dt)
}

// linear is x [N, in] @ W [in, out] (+ b): fused where the backend has it.
func (m *Model) linear(x *Node, w, b string) *Node {
	var bias *Node
	if b != "" && m.Cfg.Bias {
		bias = m.w(b)
	}
	if m.ComputeDType == dtypes.BFloat16 {
		// The Go backend has no bf16 fused Dense; a plain DotGeneral works on every backend.
		y := DotGeneral(x, []int{1}, nil, m.w(w), []int{0}, nil) // [N, out]
		if bias != nil {
			y = Add(y, ExpandAxes(bias, 0))
		}
		return y
	}
	return dense(x, m.w(w), bias) // fused Dense, closed-form backward
}

// w fetches a parameter in the compute dtype.
func (m *Model) w(name string) *Node {
	n := m.W(name)
	if m.ComputeDType != dtypes.InvalidDType && n.DType() != m.ComputeDType {
		n = ConvertDType(n, m.ComputeDType)
	}
	return n
}

// dropout zeroes a fraction Cfg.Dropout of x during training and rescales the rest.
func (m *Model) dropout(x *Node) *Node {
	if m.RNG == nil || m.Cfg.Dropout == 0 {
		return x
	}
	var u *Node
	m.RNG, u = RandomUniform(m.RNG, shapes.Make(dtypes.Float32, x.Shape().Dimensions...))
	keep := GreaterOrEqual(u, Scalar(x.Graph(), dtypes.Float32, m.Cfg.Dropout))
	scaled := MulScalar(x, 1/(1-m.Cfg.Dropout))
	return Where(keep, scaled, ZerosLike(x))
}
