// Package train is golem's training loop: next-token cross-entropy on packed sequences,
// AdamW with decoupled weight decay, warmup-cosine schedule, global-norm clipping, gradient
// accumulation, a NaN/Inf guard that skips the update before it touches the weights, periodic
// evaluation, metrics, atomic checkpoints and bit-exact resume.
//
// The whole optimizer step (forward, backward, clip, guard, AdamW) is one compiled graph;
// parameters and optimizer moments stay on the device between steps as variables of a GoMLX
// store. The learning rate is an input, so the schedule never triggers a recompilation.
package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/models/transformer"
)

// Store paths of the training state.
const (
	ModelScope = "/model/" // parameters, by transformer parameter name
	adamM      = "/adam/m/"
	adamV      = "/adam/v/"
	adamT      = "/adam/t" // successful optimizer steps, float32
	accumScope = "/accum/" // gradient accumulators
	rngPath    = "/rng"
)

// Param is one optimized variable: its store path, and whether weight decay applies.
type Param struct {
	Path  string
	Decay bool
}

// Trainer owns the parameters, optimizer state and compiled steps of one model.
type Trainer struct {
	Cfg     Config
	Backend compute.Backend
	Store   *model.Store

	// Params are the optimized variables (all model parameters for pretraining; adapters for LoRA).
	Params []Param
	// Weights builds the model's parameter lookup inside a graph; training says whether the
	// graph trains (LoRA applies its dropout only then). The default reads ModelScope
	// variables; LoRA wraps it to return W + scale·A·B.
	Weights func(g *Graph, training bool) transformer.Weights

	// Step is the number of optimizer steps taken (skipped non-finite steps included).
	Step int64
	// BadInRow counts consecutive non-finite steps.
	BadInRow int

	stepExec, accumExec, applyExec, evalExec *model.Exec
	dp                                       *dataParallel // nil: one device, no sharding
	// poison, set only by tests, makes the loss NaN at the steps it returns true for: the NaN
	// guard's fault injection runs through the real step graph (its poison input is 0 otherwise).
	poison func(step int64) bool
}

// InferenceWeights is Weights(g, false), for graphs that do not train (generation, scoring):
// its method value is what generate.Model and evaluate.LM take.
func (t *Trainer) InferenceWeights(g *Graph) transformer.Weights { return t.Weights(g, false) }

// StepResult is what one optimizer step reports.
type StepResult struct {
	Loss     float64 // mean training loss over the batch
	GradNorm float64 // global L2 norm before clipping
	LR       float64
	Skipped  bool // the loss or gradients were not finite: no weight was changed
}

// New makes a trainer with freshly initialised parameters (GPT-2 init, seeded by Train.Seed).
func New(cfg Config, backend compute.Backend) (*Trainer, error) {
	t := &Trainer{Cfg: cfg, Backend: backend, Store: model.NewStore()}
	init := transformer.Init(&cfg.Model, cfg.Train.Seed)
	for _, p := range cfg.Model.ParamShapes() {
		if _, err := t.Store.CreateVariable(ModelScope+p.Name, tensors.FromFlatDataAndDimensions(init[p.Name], p.Dims...)); err != nil {
			return nil, err
		}
		decay := p.Kind == transformer.KindWeight || p.Kind == transformer.KindResidual ||
			(p.Kind == transformer.KindEmbedding && cfg.Optimizer.DecayEmbed)
		t.Params = append(t.Params, Param{Path: ModelScope + p.Name, Decay: decay})
	}
	rng, err := RNGStateFromSeed(int64(cfg.Train.Seed))
	if err != nil {
		return nil, err
	}
	if _, err := t.Store.CreateVariable(rngPath, rng); err != nil {
		return nil, err
	}
	t.Weights = func(g *Graph, _ bool) transformer.Weights {
		return func(name string) *Node { return t.Store.GetVariable(ModelScope + name).NodeValue(g) }
	}
	return t, nil
}

// InitOptimizer creates zeroed AdamW moments (and accumulators) for t.Params. Call it after
// Params are final and before the first step; Restore fills them from a checkpoint instead.
func (t *Trainer) InitOptimizer() error {
	for _, p := range t.Params {
		v := t.Store.GetVariable(p.Path)
		if v == nil {
			return fmt.Errorf("optimizer: no variable %s", p.Path)
		}
		for _, prefix := range []string{adamM, adamV} {
			if t.Store.GetVariable(prefix+p.Path[1:]) == nil {
				if _, err := t.Store.CreateVariable(prefix+p.Path[1:], tensors.FromShape(v.Shape())); err != nil {
					return err
				}
			}
		}
		if t.Cfg.MicroBatch() < t.Cfg.Train.BatchSize && t.Store.GetVariable(accumScope+p.Path[1:]) == nil {
			if _, err := t.Store.CreateVariable(accumScope+p.Path[1:], tensors.FromShape(v.Shape())); err != nil {
				return err
			}
		}
	}
	if t.Store.GetVariable(adamT) == nil {
		if _, err := t.Store.CreateVariable(adamT, tensors.FromScalar(float32(0))); err != nil {
			return err
		}
	}
	return nil
}

// computeDType is the dtype matmuls run in for a train.dtype value ("float32" or "bfloat16").
func computeDType(name string) dtypes.DType {
	if name == "bfloat16" {
		return dtypes.BFloat16
	}
	return dtypes.Float32
}

// loss builds the mean next-token loss of a micro-batch: tokens [B, T+1] int32, weights
// [B, T] float32 (which target positions count) -> scalar. With training set, dropout is
// active and the RNG variable advances.
func (t *Trainer) loss(g *Graph, tokens, weights *Node, training bool) *Node {
	B, T1 := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	T := T1 - 1
	m := &transformer.Model{Cfg: t.Cfg.Model, W: t.Weights(g, training), ComputeDType: computeDType(t.Cfg.Train.DType),
		Checkpoint: training && t.Cfg.Train.CheckpointActivations}
	rngVar := t.Store.GetVariable(rngPath)
	if training && t.Cfg.Model.Dropout > 0 {
		m.RNG = rngVar.NodeValue(g)
	}
	inputs := Slice(tokens, AxisRange(), AxisRange(0, T))   // [B, T]
	targets := Slice(tokens, AxisRange(), AxisRange(1, T1)) // [B, T]
	logits := m.Head(m.Hidden(inputs))                      // [B*T, V]
	loss := transformer.CrossEntropy(logits, Reshape(targets, B*T), Reshape(weights, B*T))
	if m.RNG != nil {
		rngVar.SetNodeValue(m.RNG)
	}
	return loss
}

// gradients returns the loss and d(loss)/d(param) for every optimized parameter. A non-nil
// scale multiplies the mean loss first (gradient accumulation turns it back into a sum).
func (t *Trainer) gradients(g *Graph, tokens, weights, poison, scale *Node) (*Node, []*Node) {
	loss := Add(t.loss(g, tokens, weights, true), poison) // poison is 0, or NaN in fault-injection tests
	if scale != nil {
		loss = Mul(loss, scale)
	}
	nodes := make([]*Node, len(t.Params))
	for i, p := range t.Params {
		nodes[i] = t.Store.GetVariable(p.Path).NodeValue(g)
	}
	return loss, Gradient(loss, nodes...)
}

// apply clips the gradients by global norm, checks loss and norm are finite, and takes one
// AdamW step, keeping every parameter and moment unchanged when they are not.
// Returns the global norm and 1 (applied) or 0 (skipped).
//
// The update is written for few passes over the parameters (each op is one pass on the Go
// backend, and AdamW touches every parameter ~16 times per step): the squared gradients are
// computed once (for the norm and the second moment), the clip scale and the bias corrections are
// folded into scalars, and a skipped step zeroes the gradient and sets β₁ = β₂ = 1 and the step
// size to 0 (scalars), so w, m and v come out exactly unchanged without a Where per tensor:
//
//	m' = β₁m + (1-β₁)·s·g,  v' = β₂v + (1-β₂)·s²·g²
//	w' = w(1 - lr·wd) - (lr·√bc₂/bc₁) · m' / (√v' + ε·√bc₂)   (= lr/bc₁ · m' / (√(v'/bc₂) + ε))
func (t *Trainer) apply(g *Graph, loss *Node, grads []*Node, lr *Node) (*Node, *Node) {
	o := t.Cfg.Optimizer
	sq := make([]*Node, len(grads))
	sums := make([]*Node, len(grads))
	for i, gr := range grads {
		sq[i] = Square(gr)
		sums[i] = ReduceAllSum(sq[i])
	}
	norm := Sqrt(AddN(sums)) // [] float32
	finite := LogicalAnd(IsFinite(norm), IsFinite(loss))
	scale := OnesLike(norm)
	if o.GradClip > 0 {
		scale = MinScalar(Div(Scalar(g, dtypes.Float32, o.GradClip), AddScalar(norm, 1e-6)), 1)
	}
	zero, one := ScalarZero(g, dtypes.Float32), ScalarOne(g, dtypes.Float32)
	tVar := t.Store.GetVariable(adamT)
	step := AddScalar(tVar.NodeValue(g), 1)
	bc1 := OneMinus(Pow(Scalar(g, dtypes.Float32, o.Beta1), step)) // bias corrections
	bc2 := OneMinus(Pow(Scalar(g, dtypes.Float32, o.Beta2), step))
	sqrtBC2 := Sqrt(bc2)
	// Scalars of the update; on a skipped step they make it the identity.
	b1 := Where(finite, Scalar(g, dtypes.Float32, o.Beta1), one)
	b2 := Where(finite, Scalar(g, dtypes.Float32, o.Beta2), one)
	c1 := Where(finite, MulScalar(scale, 1-o.Beta1), zero)
	c2 := Where(finite, MulScalar(Square(scale), 1-o.Beta2), zero)
	stepSize := Where(finite, Div(Mul(lr, sqrtBC2), bc1), zero)
	epsHat := MulScalar(sqrtBC2, o.Eps)
	keep := Where(finite, OneMinus(MulScalar(lr, o.WeightDecay)), one) // decoupled decay (AdamW)
	for i, p := range t.Params {
		pv, mv, vv := t.Store.GetVariable(p.Path), t.Store.GetVariable(adamM+p.Path[1:]), t.Store.GetVariable(adamV+p.Path[1:])
		w, m, v := pv.NodeValue(g), mv.NodeValue(g), vv.NodeValue(g)
		gr, g2 := grads[i], sq[i]
		// Non-finite gradients must not reach m and v even multiplied by 0: zero them.
		gr = Where(finite, gr, zero)
		g2 = Where(finite, g2, zero)
		m2 := Add(Mul(m, b1), Mul(gr, c1))
		v2 := Add(Mul(v, b2), Mul(g2, c2))
		upd := Mul(Div(m2, Add(Sqrt(v2), epsHat)), stepSize)
		w2 := w
		if p.Decay && o.WeightDecay > 0 {
			w2 = Mul(w, keep)
		}
		pv.SetNodeValue(Sub(w2, upd))
		mv.SetNodeValue(m2)
		vv.SetNodeValue(v2)
	}
	tVar.SetNodeValue(Where(finite, step, tVar.NodeValue(g)))
	return norm, ConvertDType(finite, dtypes.Float32)
}

// AddN sums nodes of equal shape.
func AddN(nodes []*Node) *Node {
	sum := nodes[0]
	for _, n := range nodes[1:] {
		sum = Add(sum, n)
	}
	return sum
}

func (t *Trainer) compile() error {
	if t.stepExec != nil {
		return nil
	}
	var err error
	if t.dp, err = newDataParallel(t.Cfg, t.Backend); err != nil {
		return err
	}
	// One micro-batch is the whole batch: forward, backward and update in one graph.
	t.stepExec, err = model.NewExec(t.Backend, t.Store, func(_ *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		loss, grads := t.gradients(g, in[0], in[1], in[3], nil)
		norm, ok := t.apply(g, loss, grads, in[2])
		return []*Node{loss, norm, ok}
	})
	if err != nil {
		return err
	}
	// Gradient accumulation must give the full batch's loss, sum(w·loss) / max(sum(w), 1),
	// also when micro-batches train different numbers of targets (loss masks). accumExec adds
	// one micro-batch's weighted loss *sum* gradient into the accumulators and returns that
	// sum and the micro-batch's weight count; applyExec divides once by the batch's count
	// (an input), updates and zeroes the accumulators.
	t.accumExec, err = model.NewExec(t.Backend, t.Store, func(_ *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		count := ReduceAllSum(in[1])
		// CrossEntropy's mean divides by max(count, 1): multiplying by it gives the sum exactly.
		lossSum, grads := t.gradients(g, in[0], in[1], in[2], MaxScalar(count, 1))
		for i, p := range t.Params {
			acc := t.Store.GetVariable(accumScope + p.Path[1:])
			acc.SetNodeValue(Add(acc.NodeValue(g), grads[i]))
		}
		return []*Node{lossSum, count}
	})
	if err != nil {
		return err
	}
	t.applyExec, err = model.NewExec(t.Backend, t.Store, func(_ *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		inv := Reciprocal(in[2]) // 1 / max(batch weight count, 1)
		grads := make([]*Node, len(t.Params))
		for i, p := range t.Params {
			acc := t.Store.GetVariable(accumScope + p.Path[1:])
			grads[i] = Mul(acc.NodeValue(g), inv)
			acc.SetNodeValue(ZerosLike(grads[i]))
		}
		norm, ok := t.apply(g, in[0], grads, in[1])
		return []*Node{norm, ok}
	})
	if err != nil {
		return err
	}
	t.evalExec, err = model.NewExec(t.Backend, t.Store, func(_ *model.Scope, in []*Node) *Node {
		return t.loss(in[0].Graph(), in[0], in[1], false)
	})
	if err != nil {
		return err
	}
	// Inputs: step (tokens, weights: sharded; lr, poison), accum (tokens, weights; poison),
	// apply (loss, lr), eval (tokens, weights).
	t.dp.distribute(t.stepExec, 2)
	t.dp.distribute(t.accumExec, 2)
	t.dp.distribute(t.applyExec, 0)
	t.dp.distribute(t.evalExec, 2)
	return nil
}

// LR is the learning rate at a step: linear warmup to LR, then cosine decay to MinLR at the
// last step.
func (t *Trainer) LR(step int64) float64 {
	o := t.Cfg.Optimizer
	if step < int64(o.WarmupSteps) {
		return o.LR * float64(step+1) / float64(o.WarmupSteps)
	}
	total := int64(t.Cfg.Train.Steps) - int64(o.WarmupSteps)
	if total <= 0 {
		return o.LR
	}
	progress := math.Min(1, float64(step-int64(o.WarmupSteps))/float64(total))
	return o.MinLR + 0.5*(o.LR-o.MinLR)*(1+math.Cos(math.Pi*progress))
}

// TrainStep takes one optimizer step on batch: rows of T+1 tokens, [BatchSize*(T+1)] int32,
// with per-target weights [BatchSize*T] (nil = all ones).
func (t *Trainer) TrainStep(batch []int32, weights []float32) (StepResult, error) {
	if err := t.compile(); err != nil {
		return StepResult{}, err
	}
	B, mb, T := t.Cfg.Train.BatchSize, t.Cfg.MicroBatch(), t.Cfg.Model.SeqLen
	if weights == nil {
		weights = ones(B * T)
	}
	lr := t.LR(t.Step)
	p := float32(0) // added to the loss
	if t.poison != nil && t.poison(t.Step) {
		p = float32(math.NaN())
	}
	res := StepResult{LR: lr}
	var norm, ok *tensors.Tensor
	if mb == B {
		out, err := t.stepExec.Call(t.dp.args(2, tensors.FromFlatDataAndDimensions(batch, B, T+1),
			tensors.FromFlatDataAndDimensions(weights, B, T), tensors.FromScalar(float32(lr)), tensors.FromScalar(p))...)
		if err != nil {
			return res, fmt.Errorf("step %d: %w", t.Step, err)
		}
		res.Loss = float64(tensors.ToScalar[float32](out[0]))
		norm, ok = out[1], out[2]
	} else {
		var lossSum, count float64
		for i := 0; i < B/mb; i++ {
			out, err := t.accumExec.Call(t.dp.args(2, tensors.FromFlatDataAndDimensions(batch[i*mb*(T+1):(i+1)*mb*(T+1)], mb, T+1),
				tensors.FromFlatDataAndDimensions(weights[i*mb*T:(i+1)*mb*T], mb, T), tensors.FromScalar(p))...)
			if err != nil {
				return res, fmt.Errorf("step %d micro-batch %d: %w", t.Step, i, err)
			}
			lossSum += float64(tensors.ToScalar[float32](out[0]))
			count += float64(tensors.ToScalar[float32](out[1]))
		}
		count = max(count, 1) // as CrossEntropy's denominator
		res.Loss = lossSum / count
		out, err := t.applyExec.Call(t.dp.args(0, tensors.FromScalar(float32(res.Loss)), tensors.FromScalar(float32(lr)), tensors.FromScalar(float32(count)))...)
		if err != nil {
			return res, fmt.Errorf("step %d update: %w", t.Step, err)
		}
		norm, ok = out[0], out[1]
	}
	res.GradNorm = float64(tensors.ToScalar[float32](norm))
	res.Skipped = tensors.ToScalar[float32](ok) == 0
	t.Step++
	if res.Skipped {
		t.BadInRow++
	} else {
		t.BadInRow = 0
	}
	return res, nil
}

// EvalLoss is the mean loss over batches (no dropout, no update): each batch's weighted mean,
// averaged.
func (t *Trainer) EvalLoss(batches []Batch) (float64, error) {
	if err := t.compile(); err != nil {
		return 0, err
	}
	T := t.Cfg.Model.SeqLen
	var sum float64
	for _, b := range batches {
		rows := len(b.Tokens) / (T + 1)
		toks, w := b.Tokens, b.Weights
		if w == nil {
			w = ones(rows * T)
		}
		// A short (last) batch is padded to the batch size, so evaluation compiles one graph, and
		// to a multiple of the devices; rows of weight 0 leave the weighted mean unchanged.
		pad := max(t.Cfg.Train.BatchSize-rows, 0)
		if pad += t.dp.padRows(rows + pad); pad > 0 {
			toks = append(slices.Clone(toks), make([]int32, pad*(T+1))...)
			w = append(slices.Clone(w), make([]float32, pad*T)...)
			rows += pad
		}
		out, err := t.evalExec.Call(t.dp.args(2, tensors.FromFlatDataAndDimensions(toks, rows, T+1), tensors.FromFlatDataAndDimensions(w, rows, T))...)
		if err != nil {
			return 0, fmt.Errorf("evaluation: %w", err)
		}
		sum += float64(tensors.ToScalar[float32](out[0]))
	}
	return sum / float64(len(batches)), nil
}

func ones(n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = 1
	}
	return w
}
