package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
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
