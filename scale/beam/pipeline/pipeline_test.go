package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// The repository's Common Crawl sample (697 Dolma-format documents from a 2019 crawl).
const ccSample = "../../../testdata/commoncrawl/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"

func TestMain(m *testing.M) {
	// Prism logs every job's progress at INFO.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ptest.MainWithDefault(m, "prism")
}

func runPrism(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	return prism.Execute(ctx, p)
}

// plantedInputs writes three input files: a.jsonl holds 60 documents of the sample;
// b.jsonl 60 others, then exact copies of 4 of a's (case and punctuation changed, which
// the exact hash ignores), near copies of 4 others (one word changed), and a malformed
// line; c.warc.wet is the whirlwind WET. It returns the folder and the planted texts.
func plantedInputs(t *testing.T, filter *corpus.Filter) (dir string, exact, near []string) {
	dir = t.TempDir()
	var kept []corpus.Document // documents the filters keep, so the duplicates are decided by dedup
	for d, err := range corpus.Documents([]string{ccSample}, corpus.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, reason := filter.Apply(&d); reason == "" && len(strings.Fields(d.Text)) > 200 {
			kept = append(kept, d)
		}
	}
	if len(kept) < 120 {
		t.Fatalf("only %d usable documents in %s", len(kept), ccSample)
	}
	line := func(text string) string {
		b, _ := json.Marshal(map[string]string{"text": text})
		return string(b) + "\n"
	}
	var a, b strings.Builder
	for _, d := range kept[:60] {
		a.WriteString(line(d.Text))
	}
	for _, d := range kept[60:120] {
		b.WriteString(line(d.Text))
	}
	for k := range 4 {
		text := strings.ToUpper(kept[3*k].Text[:1]) + strings.ReplaceAll(kept[3*k].Text[1:], ".", "!")
		exact = append(exact, text)
		b.WriteString(line(text))
		w := strings.Fields(kept[3*k+1].Text)
		w[len(w)/2] = "zyzzyva"
		text = strings.Join(w, " ")
		near = append(near, text)
		b.WriteString(line(text))
	}
	b.WriteString("{not json\n")
	wet, err := os.ReadFile("../../../testdata/commoncrawl/whirlwind.warc.wet")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"a.jsonl": a.String(), "b.jsonl": b.String(), "c.warc.wet": string(wet)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, exact, near
}

// TestSameAsPrepare runs the Beam pipeline on Prism and the single-machine corpus.Prepare
// on the same three files with planted cross-file duplicates: both drop the same
// documents (the planted ones among them) and write byte-identical shards, manifest and
// tokenizer.json.
func TestSameAsPrepare(t *testing.T) {
	filters := corpus.DefaultFilters()
	dir, exact, near := plantedInputs(t, corpus.NewFilter(filters))
	tok := tokenizer.NewByte()
	single := t.TempDir()
	want, err := corpus.Prepare(context.Background(), corpus.PrepareConfig{Inputs: []string{dir}, Out: single, Filters: filters, Dedup: corpus.DefaultDedup(),
		Tokenizer: tok, MaxBadFraction: 0.1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cfg := Config{Inputs: []string{dir}, Out: out, Filters: filters, Dedup: corpus.DefaultDedup(), Tokenizer: tok, MaxBadFraction: 0.1, Workers: 2}
	got, m, err := Run(context.Background(), cfg, runPrism)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("single machine:\n%s\nbeam:\n%s\n%s", want, got, m)
	if got.Kept != want.Kept || got.Documents != want.Documents || got.Tokens != want.Tokens || got.DupPairs != want.DupPairs || got.Records != want.Records {
		t.Errorf("beam kept %d/%d documents, %d tokens, %d pairs, %d records; prepare %d/%d, %d, %d, %d",
			got.Kept, got.Documents, got.Tokens, got.DupPairs, got.Records, want.Kept, want.Documents, want.Tokens, want.DupPairs, want.Records)
	}
	for _, counts := range []struct {
		what      string
		got, want map[string]int64
	}{{"dropped", got.Dropped, want.Dropped}, {"problems", got.Problems, want.Problems}} {
		gb, _ := json.Marshal(counts.got)
		wb, _ := json.Marshal(counts.want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s: beam %s, prepare %s", counts.what, gb, wb)
		}
	}
	if want.Dropped["exact_duplicate"] < int64(len(exact)) || want.Dropped["near_duplicate"] < int64(len(near)) || want.Problems["bad_json"] != 1 {
		t.Errorf("planted %d exact and %d near duplicates and 1 bad line; prepare dropped %v, problems %v", len(exact), len(near), want.Dropped, want.Problems)
	}
	for _, name := range []string{data.ManifestFile, tokenizerFile, corpus.OutputName(0), corpus.OutputName(1), corpus.OutputName(2)} {
		g, err1 := os.ReadFile(filepath.Join(out, name))
		w, err2 := os.ReadFile(filepath.Join(single, name))
		if err1 != nil || err2 != nil || !bytes.Equal(g, w) {
			t.Errorf("%s differs from prepare's (%v, %v; %d vs %d bytes)", name, err1, err2, len(g), len(w))
		}
	}
	// The planted copies are gone from b's shard; pretrain's reader opens the output.
	set, err := data.OpenShards([]string{out}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	b := shardText(t, filepath.Join(out, corpus.OutputName(1)))
	for _, text := range append(exact, near...) {
		if strings.Contains(b, text[:200]) {
			t.Errorf("planted duplicate kept: %.80q", text)
		}
	}
}

// shardText decodes a byte-tokenizer shard back to text.
func shardText(t *testing.T, path string) string {
	s, err := data.OpenShard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := make([]int32, s.Len())
	s.Read(ids, 0)
	var b strings.Builder
	for _, id := range ids {
		if id < 256 {
			b.WriteByte(byte(id))
		} else {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestBadRecords: bad lines are counted, and over --max-bad-fraction the run fails
// naming the file.
func TestBadRecords(t *testing.T) {
	dir := t.TempDir()
	body := `{"text":"one good line of text"}` + "\n" + "{bad\n{bad\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Inputs: []string{dir}, Out: t.TempDir(), Filters: corpus.MinimalFilters(), Dedup: corpus.DefaultDedup(), MaxBadFraction: 0.7, Workers: 1}
	rep, _, err := Run(context.Background(), cfg, runPrism)
	if err != nil || rep.Problems["bad_json"] != 2 || rep.Kept != 1 {
		t.Fatalf("under the limit: %v, %+v", err, rep)
	}
	cfg.MaxBadFraction, cfg.Out = 0.5, t.TempDir()
	_, _, err = Run(context.Background(), cfg, runPrism)
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl") || !strings.Contains(err.Error(), "max-bad-fraction") {
		t.Fatalf("over the limit: %v", err)
	}
}

// TestBeamFilesystem reads inputs from and writes outputs to a Beam filesystem (memfs://,
// standing in for gs:// and s3://): listing a glob, copying inputs to the worker, copying
// outputs back, reading the report. The shards are the same as from local paths.
func TestBeamFilesystem(t *testing.T) {
	wet, err := os.ReadFile("../../../testdata/commoncrawl/whirlwind.warc.wet.gz")
	if err != nil {
		t.Fatal(err)
	}
	memfs.Write("memfs://in/whirlwind.warc.wet.gz", wet)
	memfs.Write("memfs://in/docs.jsonl", []byte(`{"text":"a document read from a Beam filesystem"}`+"\n"))
	cfg := Config{Inputs: []string{"memfs://in/*"}, Out: "memfs://out/", Filters: corpus.MinimalFilters(), Dedup: corpus.DefaultDedup(), MaxBadFraction: 0.1, Workers: 1}
	rep, _, err := Run(context.Background(), cfg, runPrism)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Shards != 2 || rep.Kept != 2 || rep.PerShard[1].Source != "memfs://in/whirlwind.warc.wet.gz" {
		t.Fatalf("report: %+v", rep)
	}
	local := t.TempDir()
	os.WriteFile(filepath.Join(local, "whirlwind.warc.wet.gz"), wet, 0o644)
	os.WriteFile(filepath.Join(local, "docs.jsonl"), []byte(`{"text":"a document read from a Beam filesystem"}`+"\n"), 0o644)
	cfg.Inputs, cfg.Out = []string{local}, t.TempDir()
	if _, _, err := Run(context.Background(), cfg, runPrism); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{corpus.OutputName(0), corpus.OutputName(1)} {
		fs := memfs.New(context.Background())
		got, err := filesystem.Read(context.Background(), fs, "memfs://out/"+name)
		want, _ := os.ReadFile(filepath.Join(cfg.Out, name))
		if err != nil || len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, %d bytes, want %d", name, err, len(got), len(want))
		}
	}
}

// TestTokenizersReachWorkers: workers rebuild the tokenizer from its tokenizer.json; for
// the shipped GPT-2, tiktoken and Llama 2 vocabularies that copy encodes a Common Crawl
// page exactly as the original (else the shards would differ from prepare's).
func TestTokenizersReachWorkers(t *testing.T) {
	var page string
	for d, err := range corpus.Documents([]string{ccSample}, corpus.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Text) > len(page) {
			page = d.Text
		}
	}
	for _, path := range []string{"gpt2", "r50k_base.tiktoken", "llama2/tokenizer.bin", "llama2/tokenizer.model"} {
		tok, err := tokenizer.LoadAny(filepath.Join("../../../testdata/tokenizer", path))
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Tokenizer: tok}
		enc, err := cfg.encode()
		if err != nil {
			t.Fatal(err)
		}
		pc, err := decodeConfig(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, want := pc.Tokenizer.Encode(page), tok.Encode(page)
		if !slices.Equal(got, want) || pc.Tokenizer.EOT() != tok.EOT() || pc.Tokenizer.VocabSize() != tok.VocabSize() {
			t.Errorf("%s: the worker's copy encodes %d tokens, the original %d", path, len(got), len(want))
		}
	}
}
