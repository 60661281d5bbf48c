package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports a run as it goes. On a terminal it draws a progress bar; anywhere else (a
// log file, a pipe, CI) it prints one plain line every log_every steps, since carriage-return
// frames make a single unreadable line there. Events (validation, checkpoints) get a line of
// their own either way.
type progress struct {
	log      io.Writer
	bar      *progressbar.ProgressBar // nil: plain lines
	quiet    bool
	steps    int64
	logEvery int64
	start    time.Time
	first    int64 // step the process started at (resume), for the ETA
}

func newProgress(log io.Writer, quiet bool, steps, logEvery int, step int64) *progress {
	p := &progress{log: log, quiet: quiet, steps: int64(steps), logEvery: int64(max(logEvery, 1)), start: time.Now(), first: step}
	if !quiet && isTerminal(log) {
		p.bar = progressbar.NewOptions64(p.steps, progressbar.OptionSetWriter(log),
			progressbar.OptionSetWidth(25), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowDescriptionAtLineEnd())
		_ = p.bar.Set64(step)
	}
	return p
}

// isTerminal says whether w is a character device (a terminal), not a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// step reports a finished training step.
func (p *progress) step(step int64, loss, tokPerSec float64) {
	switch {
	case p.quiet:
	case p.bar != nil:
		p.bar.Describe(fmt.Sprintf("loss %.4f | %.0f tok/s", loss, tokPerSec))
		_ = p.bar.Set64(step)
	case step%p.logEvery == 0 || step == p.steps:
		elapsed := time.Since(p.start)
		eta := "?"
		if done := step - p.first; done > 0 {
			eta = (time.Duration(float64(elapsed) / float64(done) * float64(p.steps-step))).Round(time.Second).String()
		}
		fmt.Fprintf(p.log, "step %d/%d | loss %.4f | %.0f tok/s | elapsed %s | eta %s\n", step, p.steps, loss, tokPerSec, elapsed.Round(time.Second), eta)
	}
}

// event prints a line of its own (validation loss, a checkpoint), above the bar on a terminal.
func (p *progress) event(format string, args ...any) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.log, format+"\n", args...)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.log)
	}
}
