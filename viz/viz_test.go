package viz

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/golem-ml/golem/train"
)

// decode checks b is a PNG of at least w x h pixels.
func decode(t *testing.T, b []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if s := img.Bounds().Size(); s.X < w || s.Y < h {
		t.Fatalf("image %v, want at least %dx%d", s, w, h)
	}
}

func TestLiveLossRedrawsAndKeepsMetrics(t *testing.T) {
	var shown [][]byte
	l := &LiveLoss{Every: time.Nanosecond, Show: func(b []byte) error { shown = append(shown, b); return nil }}
	tr := &train.Trainer{}
	for i, loss := range []float64{5.5, 4.1, 3.2} {
		tr.Step = int64(i + 1)
		if err := l.OnStep(tr, train.StepResult{Loss: loss}); err != nil {
			t.Fatal(err)
		}
	}
	if stop, err := l.OnEval(tr, 3.4, true); stop || err != nil {
		t.Fatalf("OnEval = %v, %v; a plot never stops a run", stop, err)
	}
	if err := l.Done(); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 5 { // 3 steps, 1 eval, Done
		t.Fatalf("shown %d times, want 5", len(shown))
	}
	decode(t, shown[4], 600, 300)
	if len(l.Metrics) != 4 || l.Metrics[2].Loss != 3.2 || l.Metrics[3].ValLoss != 3.4 {
		t.Errorf("metrics %+v", l.Metrics)
	}
	// The default throttle (2 s) skips redraws of fast steps.
	l2 := &LiveLoss{Show: func(b []byte) error { shown = append(shown, b); return nil }}
	shown = nil
	for i := range 10 {
		tr.Step = int64(i + 1)
		_ = l2.OnStep(tr, train.StepResult{Loss: 1})
	}
	if len(shown) != 1 {
		t.Errorf("10 fast steps redrew %d times, want 1", len(shown))
	}
}

func TestTable(t *testing.T) {
	tb := &Table{Caption: "filters", Header: []string{"filter", "kept", "doc"}}
	tb.Add("gopher", 12, 0.123456)
	tb.Add("c4", 3, "<script>x</script>\nline two")
	h := tb.HTML()
	for _, want := range []string{"<caption>filters</caption>", "<th", ">0.1235</td>", "&lt;script&gt;", "<tr>"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "<script>") {
		t.Error("HTML did not escape a cell")
	}
	if s := tb.String(); !strings.Contains(s, "gopher  12    0.1235") {
		t.Errorf("text table:\n%s", s)
	}
}

func TestAttentionPNG(t *testing.T) {
	tokens := []string{"R", "O", "M", "\n"}
	causal := make([]float32, 16) // uniform over the keys up to the query
	for i := 0; i < 4; i++ {
		for j := 0; j <= i; j++ {
			causal[i*4+j] = 1 / float32(i+1)
		}
	}
	b, err := AttentionPNG(tokens, []AttentionMap{{"head 0", causal}, {"head 1", causal}, {"head 2", causal}}, 2, Size{W: 2, H: 2})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 2*2*96-2, 2*2*96-2)
	if _, err := AttentionPNG(tokens, []AttentionMap{{"bad", causal[:9]}}, 1, Size{}); err == nil || !strings.Contains(err.Error(), `"bad": 9 values for 4 tokens`) {
		t.Errorf("wrong size: got %v", err)
	}
	if got := Head([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 1); len(got) != 4 || got[0] != 5 {
		t.Errorf("Head = %v", got)
	}
}

func TestBarsPNG(t *testing.T) {
	b, err := BarsPNG("scores", "exact match", []string{"0-shot", "3-shot", "LoRA"},
		[]Series{{"exact", []float64{0.1, 0.3, 0.6}}, {"label", []float64{0.2, 0.4, 0.7}}}, Size{})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 600, 300)
	if _, err := BarsPNG("x", "y", []string{"a"}, []Series{{"s", []float64{1, 2}}}, Size{}); err == nil || !strings.Contains(err.Error(), `"s": 2 values for 1 groups`) {
		t.Errorf("mismatched series: got %v", err)
	}
}
