package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
)

// TestCommand runs the README's command in-process on Prism: a WET and a JSONL sample,
// with cross-file dedup, to shards pretrain's reader opens.
func TestCommand(t *testing.T) {
	out := t.TempDir()
	cc := "../../../../testdata/commoncrawl/"
	var stderr strings.Builder
	err := run([]string{"--runner", "prism", "--out", out, "--filters", "minimal", "--workers", "2",
		cc + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", cc + "whirlwind.warc.wet"}, &strings.Builder{}, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "documents read") {
		t.Errorf("no report on stderr:\n%s", stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep corpus.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Documents != 698 || rep.Shards != 2 || rep.Tokens == 0 {
		t.Errorf("report: %s", &rep)
	}
	set, err := data.OpenShards([]string{out}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Len() != rep.Tokens || len(set.Manifest.Shards) != 2 || set.Manifest.Shards[1].Documents != 1 {
		t.Errorf("manifest %+v, %d tokens", set.Manifest, set.Len())
	}
}
