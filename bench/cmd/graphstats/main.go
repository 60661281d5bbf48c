// Command graphstats lists what golem's training graph (forward + backward of the loss) asks
// the backend to compute: live nodes by op type, with their count and output elements, and
// the biggest nodes of a chosen op type. It finds redundant work (e.g. ops computed twice
// because a fused forward op keeps its decomposed version for the gradient).
//
//	GOEXPERIMENT=simd go run ./bench/cmd/graphstats -config tiny [-op Exp]
package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/golem-ml/golem/bench"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/train"
)

func main() {
	name := flag.String("config", "tiny", "preset or YAML")
	op := flag.String("op", "", "list the nodes of this op type")
	flag.Parse()
	path, sets := *name, []string(nil)
	if p, ok := bench.Presets[*name]; ok {
		path, sets = "", p
	}
	cfg := train.DefaultConfig()
	if err := config.Load(path, sets, &cfg); err != nil {
		panic(err)
	}
	cfg.Model.Defaults()
	backend, err := compute.NewWithConfig("go")
	if err != nil {
		panic(err)
	}
	store := model.NewStore()
	init := transformer.Init(&cfg.Model, 1)
	for _, p := range cfg.Model.ParamShapes() {
		store.CreateVariable("/model/"+p.Name, tensors.FromFlatDataAndDimensions(init[p.Name], p.Dims...))
	}
	B, T := cfg.Train.BatchSize, cfg.Model.SeqLen
	exec, err := model.NewExec(backend, store, func(_ *model.Scope, tokens *Node) *Node {
		g := tokens.Graph()
		m := &transformer.Model{Cfg: cfg.Model, W: func(n string) *Node { return store.GetVariable("/model/" + n).NodeValue(g) }}
		inputs := Slice(tokens, AxisRange(), AxisRange(0, T))
		targets := Slice(tokens, AxisRange(), AxisRange(1, T+1))
		loss := transformer.CrossEntropy(m.Head(m.Hidden(inputs)), Reshape(targets, B*T), nil)
		var vars []*Node
		for _, p := range cfg.Model.ParamShapes() {
			vars = append(vars, store.GetVariable("/model/"+p.Name).NodeValue(g))
		}
		grads := Gradient(loss, vars...)
		report(append([]*Node{loss}, grads...), *op)
		return loss
	})
	if err != nil {
		panic(err)
	}
	tok := make([]int32, B*(T+1))
	exec.MustCall(tensors.FromFlatDataAndDimensions(tok, B, T+1))
}

func report(outs []*Node, op string) {
	seen := map[*Node]bool{}
	var live []*Node
	var walk func(n *Node)
	walk = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, in := range n.Inputs() {
			walk(in)
		}
		live = append(live, n)
	}
	for _, o := range outs {
		walk(o)
	}
	type agg struct {
		n     int
		elems int
	}
	byType := map[string]*agg{}
	total := 0
	for _, n := range live {
		t := n.Type().String()
		a := byType[t]
		if a == nil {
			a = &agg{}
			byType[t] = a
		}
		a.n++
		a.elems += n.Shape().Size()
		total += n.Shape().Size()
		if op != "" && strings.EqualFold(t, op) {
			ins := []string{}
			for _, in := range n.Inputs() {
				ins = append(ins, in.Type().String()+in.Shape().String())
			}
			fmt.Printf("  #%d %s %s <- %s   %s\n", n.Id(), t, n.Shape(), strings.Join(ins, ", "), n.String())
		}
	}
	keys := make([]string, 0, len(byType))
	for k := range byType {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return byType[keys[i]].elems > byType[keys[j]].elems })
	fmt.Printf("%d live nodes, %.1fM output elements\n", len(live), float64(total)/1e6)
	for _, k := range keys {
		fmt.Printf("%-36s %5d nodes %8.2fM elements\n", k, byType[k].n, float64(byType[k].elems)/1e6)
	}
}
