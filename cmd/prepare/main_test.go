package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/data"
)

// TestPrepareCommand runs the command in-process on the CC-MAIN sample and the whirlwind WET.
func TestPrepareCommand(t *testing.T) {
	out := t.TempDir()
	cc := "../../testdata/commoncrawl/"
	os.Args = []string{"prepare", "--out", out, "--filters", "minimal", "--workers", "2", cc + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", cc + "whirlwind.warc.wet"}
	flag.CommandLine = flag.NewFlagSet("prepare", flag.ExitOnError)
	r, w, _ := os.Pipe()
	stderr := os.Stderr
	os.Stderr = w
	main()
	w.Close()
	os.Stderr = stderr
	var buf bytes.Buffer
	io.Copy(&buf, r)
	report := buf.String()
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
