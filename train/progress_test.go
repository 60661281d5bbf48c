package train

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/golem-ml/golem/corpus"
)

// Logged to a file or pipe, a run prints plain lines (no carriage-return frames): one every
// log_every steps, and each validation loss and checkpoint save as it happens.
func TestPlainProgressLines(t *testing.T) {
	cfg := tinyConfig(t, "train.steps=6", "train.log_every=2", "train.eval_every=3", "checkpoint.every=3")
	var log bytes.Buffer
	if _, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Log: &log}); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if strings.Contains(out, "\r") {
		t.Errorf("carriage returns in a non-terminal log:\n%q", out)
	}
	for _, want := range []string{"step 2/6 | loss ", "step 4/6 | loss ", "step 6/6 | loss ", "step 3: val loss ", "step 3: saved checkpoint ", "step 6: saved checkpoint ", "step 6: val loss "} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "step 1/6") || strings.Contains(out, "step 3/6") {
		t.Errorf("lines between log_every steps:\n%s", out)
	}
}
