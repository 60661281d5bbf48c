package train

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotLoss draws training and validation loss against step into a PNG titled with the run's
// name. Validation points are marked, so a run with one evaluation still shows it; the legend
// sits in the top right, which a falling loss curve leaves free.
func PlotLoss(metricsPath, pngPath, run string) error {
	ms, err := ReadMetrics(metricsPath)
	if err != nil {
		return err
	}
	p, err := LossPlot(ms, run)
	if err != nil {
		return err
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, pngPath)
}

// LossPlot is PlotLoss's plot of metrics ms (also drawn live in notebooks: viz.LiveLoss).
func LossPlot(ms []Metric, run string) (*plot.Plot, error) {
	var trainPts, valPts plotter.XYs
	for _, m := range ms {
		if m.Loss > 0 && !m.Skipped {
			trainPts = append(trainPts, plotter.XY{X: float64(m.Step), Y: m.Loss})
		}
		if m.ValLoss > 0 {
			valPts = append(valPts, plotter.XY{X: float64(m.Step), Y: m.ValLoss})
		}
	}
	p := plot.New()
	p.Title.Text = "loss"
	if run != "" {
		p.Title.Text = run + ": loss"
	}
	p.X.Label.Text = "step"
	p.Y.Label.Text = "cross-entropy (nats/token)"
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = niceTicks{}
	p.Legend.Top, p.Legend.Left = true, false // loss falls from the top left: the top right is free
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(8)
	p.Legend.Padding = vg.Points(2)
	if len(trainPts) > 0 {
		l, err := plotter.NewLine(trainPts)
		if err != nil {
			return nil, err
		}
		l.Color = plotter.DefaultLineStyle.Color
		p.Add(l)
		p.Legend.Add("train", l)
	}
	if len(valPts) > 0 {
		l, s, err := plotter.NewLinePoints(valPts)
		if err != nil {
			return nil, err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Width = vg.Points(2)
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(3)
		p.Add(l, s)
		p.Legend.Add("validation", l, s)
	}
	if len(trainPts)+len(valPts) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, pt := range append(append(plotter.XYs{}, trainPts...), valPts...) {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
		pad := math.Max((hi-lo)*0.05, 0.05)
		p.Y.Min, p.Y.Max = math.Max(0, lo-pad), hi+pad
	}
	return p, nil
}

// niceTicks labels an axis every 1, 2 or 5 times a power of ten, with 4 to 10 labels (gonum's
// default gives as few as 2 or 3 on a loss axis).
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: fmt.Sprintf("%.3g", lo)}}
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/4)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 8 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		label := fmt.Sprintf("%.4g", math.Round(v/step)*step)
		if step >= 1 {
			label = fmt.Sprintf("%.0f", v) // steps: 20000, not 2e+04
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}
