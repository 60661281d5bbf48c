package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Metric is one line of metrics.jsonl. Zero fields are omitted.
type Metric struct {
	Step         int64   `json:"step"`
	Loss         float64 `json:"loss,omitempty"`
	ValLoss      float64 `json:"val_loss,omitempty"`
	ValPPL       float64 `json:"val_ppl,omitempty"`
	GradNorm     float64 `json:"grad_norm,omitempty"`
	LR           float64 `json:"lr,omitempty"`
	TokensPerSec float64 `json:"tokens_per_sec,omitempty"`
	Elapsed      float64 `json:"elapsed_sec,omitempty"`
	Skipped      bool    `json:"skipped,omitempty"`
}

// Metrics appends one JSON line per logged step.
type Metrics struct{ f *os.File }

// OpenMetrics opens path for appending, first dropping lines past fromStep (left by a run that
// crashed after its last checkpoint), so a resumed run's curve has no duplicate steps.
func OpenMetrics(path string, fromStep int64) (*Metrics, error) {
	kept, _ := ReadMetrics(path)
	var lines []byte
	for _, m := range kept {
		if m.Step <= fromStep {
			b, _ := json.Marshal(sanitize(m))
			lines = append(append(lines, b...), '\n')
		}
	}
	if err := os.WriteFile(path, lines, 0o644); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Metrics{f: f}, nil
}

// Write appends one line.
func (m *Metrics) Write(x Metric) error {
	b, err := json.Marshal(sanitize(x))
	if err != nil {
		return err
	}
	_, err = m.f.Write(append(b, '\n'))
	return err
}

// Close closes the file.
func (m *Metrics) Close() error { return m.f.Close() }

// sanitize replaces NaN and Inf (which JSON cannot hold) by -1.
func sanitize(x Metric) Metric {
	for _, p := range []*float64{&x.Loss, &x.ValLoss, &x.ValPPL, &x.GradNorm} {
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			*p = -1
		}
	}
	return x
}

// ReadMetrics parses a metrics.jsonl file.
func ReadMetrics(path string) ([]Metric, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Metric
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var m Metric
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return out, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// PlotLoss draws training and validation loss against step into a PNG.
func PlotLoss(metricsPath, pngPath string) error {
	ms, err := ReadMetrics(metricsPath)
	if err != nil {
		return err
	}
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
	p.X.Label.Text = "step"
	p.Y.Label.Text = "cross-entropy (nats/token)"
	p.Add(plotter.NewGrid())
	for i, s := range []struct {
		name string
		pts  plotter.XYs
	}{{"train", trainPts}, {"validation", valPts}} {
		if len(s.pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.pts)
		if err != nil {
			return err
		}
		l.Color = plotter.DefaultLineStyle.Color
		if i == 1 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			l.Width = vg.Points(2)
		}
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	return p.Save(7*vg.Inch, 4*vg.Inch, pngPath)
}
