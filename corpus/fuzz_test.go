package corpus

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/golem-ml/golem/internal/fuzzseeds"
)

// Seeds live in testdata/fuzz/<Fuzz name>/ at the repository root as raw files (one
// input each); they run as ordinary tests. `go test -fuzz FuzzWARC ./corpus/` explores
// further and saves any failing input under corpus/testdata/fuzz/, where it also reruns.

// fuzzDocs reads every document of a file holding b and checks the reader's promises:
// no panic, termination, provenance within the records seen, problems naming the file.
func fuzzDocs(t *testing.T, b []byte, name string, opts ReadOptions) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var ps Problems
	opts.Problems = &ps
	r, err := OpenDocs(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for n := 0; ; n++ {
		d, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			break
		}
		if d.Shard != path || d.Record < 1 || d.Record > r.Records() {
			t.Fatalf("document at %s outside records 1..%d", d.Where(), r.Records())
		}
		if n > len(b)+1 {
			t.Fatalf("more documents (%d) than input bytes", n)
		}
	}
	for _, p := range ps.Samples() {
		if !strings.HasPrefix(p.String(), path+":") {
			t.Fatalf("problem %q does not name the file", p)
		}
	}
}

func FuzzWARC(f *testing.F) {
	fuzzseeds.Add(f)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDocs(t, b, "f.warc", ReadOptions{}) })
}

func FuzzJSONL(f *testing.F) {
	fuzzseeds.Add(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDocs(t, b, "f.jsonl", ReadOptions{})
		// The fast scanner agrees with encoding/json on every valid object.
		for _, line := range bytes.Split(b, []byte("\n")) {
			var want map[string]json.RawMessage
			if json.Unmarshal(line, &want) != nil {
				continue
			}
			var o jsonObject
			if err := o.scan(line); err != nil {
				t.Fatalf("scanner rejects valid JSON %q: %v", line, err)
			}
			raw, ok := o.get("text")
			var ws string
			werr := json.Unmarshal(want["text"], &ws)
			if _, has := want["text"]; has != ok {
				t.Fatalf("%q: text field found %v, encoding/json %v", line, ok, has)
			}
			if gs, gok := jsonString(raw); ok && werr == nil && utf8.Valid(raw) && (!gok || gs != ws) {
				t.Fatalf("%q: text %q, encoding/json %q", line, gs, ws)
			}
		}
	})
}
