package finetune

import (
	"fmt"
	"strings"
	"testing"

	"github.com/golem-ml/golem/internal/fuzzseeds"

	"github.com/golem-ml/golem/tokenizer"
)

// FuzzReadExamples feeds arbitrary bytes to the example reader, encoder and row layout. Seeds
// live in testdata/fuzz/FuzzReadExamples/ at the repository root (one raw file each) and run as
// ordinary tests; `go test -fuzz FuzzReadExamples ./finetune/` explores further.
func FuzzReadExamples(f *testing.F) {
	fuzzseeds.Add(f)
	tok := tokenizer.NewByte()
	f.Fuzz(func(t *testing.T, b []byte) {
		dc := dataCfg(func(dc *DataConfig) { dc.Overflow = "truncate" })
		ds, err := ReadBytes("f.jsonl", b, dc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.jsonl:") {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		// Every record is either an example or a dropped-record problem, at a line of the file.
		if ds.Records != len(ds.Examples)+ds.Dropped() {
			t.Fatalf("%d records = %d examples + %d dropped?", ds.Records, len(ds.Examples), ds.Dropped())
		}
		lines := strings.Count(string(b), "\n") + 1
		for _, p := range ds.Problems {
			var line int
			if _, err := fmt.Sscan(p.Where[strings.LastIndexByte(p.Where, ':')+1:], &line); err != nil || line < 1 || line > lines {
				t.Fatalf("problem %q: not at a line of the file", p)
			}
		}
		for _, e := range ds.Examples {
			if !strings.HasPrefix(e.Text(), e.Prompt()) || e.Completion() == "" {
				t.Fatalf("%s: prompt %q is not a prefix of %q, or empty completion", e.Where, e.Prompt(), e.Text())
			}
		}
		toks := Encode(ds, tok, 16, dc)
		if ds.Records != len(ds.Examples)+ds.Dropped() || len(toks) != len(ds.Examples) {
			t.Fatalf("after encoding: %d records, %d examples, %d dropped, %d encoded", ds.Records, len(ds.Examples), ds.Dropped(), len(toks))
		}
		// Splitting keeps every target of every example, in exactly one row.
		sc := dataCfg(func(dc *DataConfig) { dc.Overflow = "split" })
		sp, _ := ReadBytes("f.jsonl", b, sc)
		want := 0
		for i := range sp.Examples {
			full := Tokenize(&sp.Examples[i], tok, false)
			want += full.Targets()
		}
		got := 0
		for _, x := range Encode(sp, tok, 16, sc) {
			if len(x.IDs) > 17 {
				t.Fatalf("split part of %d ids", len(x.IDs))
			}
			got += x.Targets()
		}
		if got != want {
			t.Fatalf("split: %d targets in rows, %d in the examples", got, want)
		}
		for _, pack := range []bool{false, true} {
			rows, ws := Rows(toks, 16, pack, 256)
			n := 0
			for i := range rows {
				if len(rows[i]) != 17 || len(ws[i]) != 16 {
					t.Fatal("row shape")
				}
				for _, w := range ws[i] {
					n += int(w)
				}
			}
			want := 0
			for _, x := range toks {
				want += x.Targets()
			}
			if n != want {
				t.Fatalf("pack=%v: %d weighted targets in rows, %d in examples", pack, n, want)
			}
		}
	})
}
