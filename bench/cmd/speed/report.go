// The report: medians of the measured steps, as a Markdown table, and the loss agreement.

package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

type result struct {
	stepMS  []float64 // measured steps
	firstMS float64
	losses  []float64
	rssMB   float64
	nparams string
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

// row is one config's results: golem, PyTorch (nil with -torch=false) and the baselines.
type row struct {
	name       string
	s          *spec
	g, t       *result
	b          []*result
	bn         []string
	loadBefore string
	loadAfter  string
}

// printReport prints the table of medians and, per config, how far golem's losses are from
// PyTorch's.
func printReport(rows []row, peakG, peakT float64) {
	fmt.Printf("\nMedians over %d steps after %d warm-up steps; load average before/after each config shown.\n\n", *flagSteps, *flagWarmup)
	fmt.Println("| config | framework | step ms | tokens/s | GFLOP/s | % of matmul peak | peak RSS MB | first step s | golem/PyTorch | final loss | load |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		tokens := float64(r.s.Batch * r.s.SeqLen)
		line := func(fw string, x *result, pk float64, ratio string) {
			ms := median(x.stepMS)
			tps := tokens / (ms / 1000)
			gf := tps * r.s.Flops / 1e9
			frac := "n/a"
			if !math.IsNaN(pk) {
				frac = fmt.Sprintf("%.0f%%", 100*gf/pk)
			}
			fmt.Printf("| %s | %s | %.1f | %.0f | %.1f | %s | %.0f | %.2f | %s | %.4f | %s → %s |\n",
				r.name, fw, ms, tps, gf, frac, x.rssMB, x.firstMS/1000, ratio, x.losses[len(x.losses)-1], r.loadBefore, r.loadAfter)
		}
		ratio := ""
		if r.t != nil {
			ratio = fmt.Sprintf("**%.2fx**", median(r.t.stepMS)/median(r.g.stepMS))
		}
		line("golem", r.g, peakG, ratio)
		for i, b := range r.b {
			br := fmt.Sprintf("(golem/this %.2fx)", median(b.stepMS)/median(r.g.stepMS))
			if r.t != nil {
				br = fmt.Sprintf("%.2fx %s", median(r.t.stepMS)/median(b.stepMS), br)
			}
			line("golem@"+r.bn[i], b, peakG, br)
		}
		if r.t != nil {
			line("PyTorch", r.t, peakT, "1.00x")
		}
	}
	fmt.Println()
	for _, r := range rows {
		if r.t == nil {
			continue
		}
		maxd := 0.0
		for i := range r.g.losses {
			maxd = math.Max(maxd, math.Abs(r.g.losses[i]-r.t.losses[i]))
		}
		fmt.Printf("%s: max |loss golem - loss PyTorch| over %d steps = %.2g (same weights, same tokens)\n", r.name, len(r.g.losses), maxd)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
