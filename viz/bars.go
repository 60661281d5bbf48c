package viz

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is one set of bars: a value per group (e.g. a score per method).
type Series struct {
	Name   string
	Values []float64
}

// BarsPNG draws grouped bars: for each group (x axis), one bar per series, side by side.
func BarsPNG(title, yLabel string, groups []string, series []Series, size Size) ([]byte, error) {
	p := plot.New()
	p.Title.Text, p.Y.Label.Text = title, yLabel
	p.Add(plotter.NewGrid())
	w := vg.Points(60 / float64(max(1, len(series))))
	top := 0.0
	for i, s := range series {
		if len(s.Values) != len(groups) {
			return nil, fmt.Errorf("bar series %q: %d values for %d groups", s.Name, len(s.Values), len(groups))
		}
		b, err := plotter.NewBarChart(plotter.Values(s.Values), w)
		if err != nil {
			return nil, fmt.Errorf("bar series %q: %w", s.Name, err)
		}
		for _, v := range s.Values {
			top = max(top, v)
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(b)
		p.Legend.Add(s.Name, b)
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1.3*top // headroom for the legend
	if top <= 0 {
		p.Y.Max = 1
	}
	p.NominalX(groups...)
	return pngOf(p, size)
}
