package viz

import (
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/golem-ml/golem/train"
)

// LossPNG draws training and validation loss against step (the plot of train.PlotLoss).
func LossPNG(ms []train.Metric, size Size) ([]byte, error) {
	p, err := train.LossPlot(ms, "")
	if err != nil {
		return nil, err
	}
	return pngOf(p, size)
}

// LiveLoss is a training callback that redraws the loss curve in place as a run trains:
// pass it in train.Options.Callbacks (or finetune.Run's), and call Done when the run returns
// to leave the final curve as a plain image. It keeps the losses it saw in Metrics.
type LiveLoss struct {
	train.NoCallbacks
	// Every is the minimum time between redraws (rendering a PNG takes ~20 ms); zero = 2 s.
	Every time.Duration
	Size  Size
	// Show replaces the redraw (tests, or a program that writes files); nil = update the
	// notebook output in place.
	Show func(png []byte) error

	Metrics []train.Metric
	id      string
	last    time.Time
}

// OnStep records the step's loss and redraws when Every has passed since the last redraw.
func (l *LiveLoss) OnStep(t *train.Trainer, res train.StepResult) error {
	l.Metrics = append(l.Metrics, train.Metric{Step: t.Step, Loss: res.Loss, Skipped: res.Skipped})
	every := l.Every
	if every == 0 {
		every = 2 * time.Second
	}
	if time.Since(l.last) < every {
		return nil
	}
	return l.redraw()
}

// OnEval records the validation loss and redraws.
func (l *LiveLoss) OnEval(t *train.Trainer, valLoss float64, improved bool) (bool, error) {
	l.Metrics = append(l.Metrics, train.Metric{Step: t.Step, ValLoss: valLoss})
	return false, l.redraw()
}

func (l *LiveLoss) redraw() error {
	l.last = time.Now()
	png, err := LossPNG(l.Metrics, l.Size)
	if err != nil {
		return err
	}
	if l.Show != nil {
		return l.Show(png)
	}
	if l.id == "" {
		l.id = "golem-loss-" + gonbui.UniqueID()
	}
	gonbui.UpdateHTML(l.id, imgTag(png))
	return nil
}

// Done replaces the live (transient) plot with the final curve as an image/png output, the
// form a saved notebook keeps.
func (l *LiveLoss) Done() error {
	png, err := LossPNG(l.Metrics, l.Size)
	if err != nil {
		return err
	}
	if l.Show != nil {
		return l.Show(png)
	}
	if l.id != "" {
		gonbui.UpdateHTML(l.id, "")
	}
	ShowPNG(png)
	return nil
}
