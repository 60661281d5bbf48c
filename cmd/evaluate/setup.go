package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/golem-ml/golem/evaluate"
)

// defaultDataDir is $GOLEM_DATA, else ../shared/data (where the benchmark data sits next to a
// checkout of this project).
func defaultDataDir() string {
	if d := os.Getenv("GOLEM_DATA"); d != "" {
		return d
	}
	return "../shared/data"
}

// newProgress shows one bar per task on a terminal, and plain lines (at most one every 10 s,
// plus the end of each task) when stderr is a file or a pipe.
func newProgress(w io.Writer) func(task string, done, total int) {
	f, ok := w.(*os.File)
	term := false
	if ok {
		if st, err := f.Stat(); err == nil {
			term = st.Mode()&os.ModeCharDevice != 0
		}
	}
	var bar *progressbar.ProgressBar
	var last time.Time
	return func(task string, done, total int) {
		if !term {
			if done == total || time.Since(last) > 10*time.Second {
				fmt.Fprintf(w, "evaluate: %s: %d/%d requests\n", task, done, total)
				last = time.Now()
			}
			return
		}
		if done == 0 {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(task),
				progressbar.OptionSetWidth(25), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
			return
		}
		bar.Set(done)
	}
}

// taskNames expands "all" to every task file in dir.
func taskNames(list, dir string) ([]string, error) {
	if list != "all" {
		return strings.Split(list, ","), nil
	}
	return evaluate.TaskNames(dir)
}
