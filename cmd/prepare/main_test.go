package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/cli"
)

// TestPrepareCommand runs the command in-process on the CC-MAIN sample and the whirlwind WET.
func TestPrepareCommand(t *testing.T) {
	out := t.TempDir()
	cc := "../../testdata/commoncrawl/"
	var stdout, stderr strings.Builder
	err := run([]string{"--out", out, "--filters", "minimal", "--workers", "2", cc + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", cc + "whirlwind.warc.wet"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	report := stderr.String()
	for _, want := range []string{"documents read   698", "tokens written", "MB/s", "manifest"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	set, err := data.OpenShards([]string{filepath.Join(out, data.ManifestFile)}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if len(set.Shards) != 2 || set.Manifest.Shards[1].Documents != 1 {
		t.Errorf("manifest %+v", set.Manifest)
	}
}

// A call without --out or inputs prints the usage and exits 2; a bad option exits 1 naming it.
func TestPrepareWrongCall(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--out", t.TempDir()}, 2, "usage: prepare"},
		{[]string{"in.txt"}, 2, "usage: prepare"},
		{[]string{"--nosuch"}, 2, "-nosuch"},
		{[]string{"-h"}, 0, "-dedup"},
		{[]string{"--out", t.TempDir(), "--filters", "nosuch", "in.txt"}, 1, "nosuch"},
	} {
		var stderr strings.Builder
		err := run(c.args, &strings.Builder{}, &stderr)
		if code := cli.Exit("prepare", err, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
