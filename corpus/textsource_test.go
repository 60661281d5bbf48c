package corpus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

func TestOpenRawFormats(t *testing.T) {
	tok := tokenizer.NewByte()
	// Plain text keeps its bytes exactly, with EOT after each file, as before.
	dir := t.TempDir()
	txt := filepath.Join(dir, "a.txt")
	os.WriteFile(txt, []byte("  Hello\r\nworld \xff\n"), 0o644)
	train, _, err := data.Open(data.Config{Train: []string{txt}, Val: []string{txt}}, tok, TextSource{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int32, train.Len())
	train.Read(got, 0)
	if want := "  Hello\r\nworld \xff\n"; train.Len() != int64(len(want)+1) || got[len(got)-1] != 256 || tok.Decode(toInts(got[:len(want)])) != want {
		t.Errorf("text: %v", got)
	}
	// WET with a language filter, JSONL.gz with a custom field, validated config.
	cfg := data.Config{Train: []string{ccDir + "whirlwind.warc.wet.gz"}, ValFraction: 0.1, Languages: []string{"spa"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	train, val, err := data.Open(cfg, tok, TextSource{})
	if err != nil || train.Len()+val.Len() != 4456+1 {
		t.Errorf("wet: %v %d", err, train.Len()+val.Len())
	}
	cfg.Languages = []string{"eng"}
	if _, _, err := data.Open(cfg, tok, TextSource{}); err == nil {
		t.Error("no English text: want an error from an empty corpus")
	}
	// The CC-MAIN sample as it is (27 of 697 documents empty) opens with the defaults.
	train, val, err = data.Open(data.Config{Train: []string{ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"}, ValFraction: 0.01}, tok, TextSource{})
	if err != nil || train.Len() < 2_000_000 || val.Len() == 0 {
		t.Errorf("cc sample: %v", err)
	}
	train, _, err = data.Open(data.Config{Train: []string{ccDir + "dolma_formats_test.jsonl.zst"}, Val: []string{ccDir + "dolma_formats_test.jsonl.gz"}, TextField: "message"}, tok, TextSource{})
	if err != nil || train.Len() != int64(len("this is a test")+1) {
		t.Errorf("jsonl: %v", err)
	}
}

func TestOpenDedup(t *testing.T) {
	inputs := dedupFixture(t)
	tok := tokenizer.NewByte()
	count := func(dedup string) int {
		train, _, err := data.Open(data.Config{Train: inputs, Val: inputs[:1], Dedup: dedup}, tok, TextSource{})
		if err != nil {
			t.Fatal(err)
		}
		all := make([]int32, train.Len())
		train.Read(all, 0)
		n := 0
		for _, id := range all {
			if id == 256 {
				n++
			}
		}
		return n
	}
	if n := count(""); n != 9 {
		t.Errorf("no dedup: %d documents", n)
	}
	if n := count("exact"); n != 7 {
		t.Errorf("exact: %d documents", n)
	}
	if n := count("exact,minhash"); n != 5 {
		t.Errorf("exact,minhash: %d documents", n)
	}
	if err := (&data.Config{Train: inputs, ValFraction: 0.1, Dedup: "fuzzy"}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "data.dedup") {
		t.Errorf("bad dedup: %v", err)
	}
}

func toInts(ids []int32) []int {
	out := make([]int, len(ids))
	for i, v := range ids {
		out[i] = int(v)
	}
	return out
}

func TestOpenTokenShards(t *testing.T) {
	out := t.TempDir()
	if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"}, Out: out, Filters: MinimalFilters(), MaxBadFraction: 0.1}); err != nil {
		t.Fatal(err)
	}
	train, val, err := data.Open(data.Config{Train: []string{out}, ValFraction: 0.05, VerifyShards: true}, tokenizer.NewByte(), TextSource{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := train.(data.Span); !ok || train.Len()+val.Len() < 2_500_000 {
		t.Fatalf("token shards: %T %d", train, train.Len())
	}
	// A corrupt shard fails at start-up, naming the file.
	shard := filepath.Join(out, OutputName(0))
	b, _ := os.ReadFile(shard)
	os.WriteFile(shard, b[:len(b)-2], 0o644)
	if _, _, err := data.Open(data.Config{Train: []string{out}, ValFraction: 0.05}, tokenizer.NewByte(), TextSource{}); err == nil || !strings.Contains(err.Error(), shard) || !strings.Contains(err.Error(), "corrupt token shard") {
		t.Errorf("truncated shard: %v", err)
	}
}

// TestOpenReportsBadInputAsPrepare: reading raw JSONL for a run counts bad lines and a
// truncated .gz exactly as prepare does, reports them as file:line, and applies
// data.max_bad_fraction as prepare applies --max-bad-fraction.
func TestOpenReportsBadInputAsPrepare(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.jsonl.gz")
	os.WriteFile(truncated, whole[:len(whole)/2], 0o644)
	lines := filepath.Join(dir, "lines.jsonl")
	os.WriteFile(lines, []byte("{\"text\":\"one\"}\n{not json\n{\"text\":\"three\"}\n"+strings.Repeat("{\"text\":\"more text\"}\n", 20)), 0o644)
	inputs := []string{truncated, lines}

	train, val, rep, err := data.OpenReport(data.Config{Train: inputs, ValFraction: 0.05}, tokenizer.NewByte(), TextSource{})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len()+val.Len() == 0 || rep.Problems["truncated_compressed"] != 1 || rep.Problems["bad_json"] != 1 {
		t.Fatalf("problems %v, want one truncated_compressed and one bad_json", rep.Problems)
	}
	brief := rep.Brief()
	if !strings.Contains(brief, "bad input: ") || !strings.Contains(brief, "truncated_compressed 1") || !strings.Contains(brief, "bad_json 1") || !strings.Contains(brief, truncated+":") {
		t.Errorf("summary line %q does not report the bad input with its file", brief)
	}
	prep, err := Prepare(context.Background(), PrepareConfig{Inputs: inputs, Out: filepath.Join(dir, "out"), Filters: must(FilterPreset("none")), MaxBadFraction: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(prep.Problems) != fmt.Sprint(rep.Problems) || prep.Records != rep.Records || prep.Kept != rep.Kept {
		t.Errorf("prepare counted %d records, %d kept, problems %v; the run's reader %d, %d, %v", prep.Records, prep.Kept, prep.Problems, rep.Records, rep.Kept, rep.Problems)
	}
	// One bad line in 23 records is over a limit of 1%, as in prepare.
	limit := 0.01
	if _, _, err := data.Open(data.Config{Train: []string{lines}, ValFraction: 0.05, MaxBadFraction: &limit}, tokenizer.NewByte(), TextSource{}); err == nil ||
		!strings.Contains(err.Error(), lines) || !strings.Contains(err.Error(), "max_bad_fraction") {
		t.Errorf("over the limit: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
