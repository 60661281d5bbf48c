package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// What run returns decides the exit status and what is printed.
func TestExit(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(&strings.Builder{})
	parseErr := Parse(fs, []string{"--nosuch"})
	for _, c := range []struct {
		err     error
		code    int
		printed string
	}{
		{nil, 0, ""},
		{Parse(fs, []string{"-h"}), 0, ""},
		{parseErr, 2, "x: flag provided but not defined: -nosuch\n"},
		{fmt.Errorf("loading: %w", UsageError{errors.New("--model is required")}), 2, "x: loading: --model is required\n"},
		{ExitCode(130), 130, ""},
		{errors.New("disk full"), 1, "x: disk full\n"},
	} {
		var out strings.Builder
		if code := Exit("x", c.err, &out); code != c.code || out.String() != c.printed {
			t.Errorf("%v: exit %d printing %q; want %d printing %q", c.err, code, out.String(), c.code, c.printed)
		}
	}
}
