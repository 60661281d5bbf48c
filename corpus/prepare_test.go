package corpus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// splitDocs cuts a token stream at end-of-text tokens and decodes each document.
func splitDocs(t data.Tokens, tok tokenizer.Tokenizer) []string {
	all := make([]int32, t.Len())
	t.Read(all, 0)
	var docs []string
	var cur []int
	for i, id := range all {
		if int(id) == tok.EOT() {
			if i > 0 {
				docs = append(docs, tok.Decode(cur))
			}
			cur = cur[:0]
			continue
		}
		cur = append(cur, int(id))
	}
	return append(docs, tok.Decode(cur))
}

func TestPrepareRoundTrip(t *testing.T) {
	out := t.TempDir()
	src := ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
	rep, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src, ccDir + "whirlwind.warc.wet.gz"}, Out: out, Filters: MinimalFilters(), MaxBadFraction: 0.1, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The expected documents: what the readers give, cleaned by the same filter.
	f := NewFilter(MinimalFilters())
	var want []string
	for _, p := range []string{src, ccDir + "whirlwind.warc.wet.gz"} {
		for _, d := range readAll(t, p, ReadOptions{}) {
			if text, r := f.Apply(&d); r == "" {
				want = append(want, text)
			}
		}
	}
	if rep.Documents != 698 || rep.Kept != int64(len(want)) || rep.Dropped["empty"] != 698-int64(len(want)) || rep.Problems["empty"] != rep.Dropped["empty"] {
		t.Errorf("report: %s", rep)
	}
	if b, err := os.ReadFile(filepath.Join(out, ".work", "reports", "all-0-of-1.json")); err != nil || !strings.Contains(string(b), `"Kept": `) {
		t.Errorf("saved report: %v %.200s", err, b)
	}
	set, err := data.OpenShards([]string{out}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Manifest == nil || len(set.Shards) != 2 || set.Len() != rep.Tokens {
		t.Fatalf("shards %d, tokens %d, report %d", len(set.Shards), set.Len(), rep.Tokens)
	}
	got := splitDocs(set, tokenizer.NewByte())
	if len(got) != len(want) {
		t.Fatalf("%d documents back, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("document %d differs: %.80q vs %.80q", i, got[i], want[i])
		}
	}
	// Through the loader: every window is a slice of the stream.
	l, err := data.NewLoader(set, 64, 4, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	b := l.Batch(3, 0, 4)
	win := make([]int32, 65)
	set.Read(win, l.Window(12)*64)
	for i := range win {
		if b[i] != win[i] {
			t.Fatal("loader batch differs from the shard tokens")
		}
	}
	// Rerun: everything is skipped, same manifest.
	before, _ := os.ReadFile(filepath.Join(out, data.ManifestFile))
	rep2, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src, ccDir + "whirlwind.warc.wet.gz"}, Out: out, Filters: MinimalFilters(), MaxBadFraction: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, data.ManifestFile))
	if rep2.Skipped != 2 || string(before) != string(after) || rep2.Kept != rep.Kept {
		t.Errorf("rerun: skipped %d, kept %d", rep2.Skipped, rep2.Kept)
	}
	// A changed input list or tokenizer is refused rather than mixed in.
	if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src, ccDir + "dolma_documents_000.json.gz"}, Out: out, Filters: MinimalFilters(), MaxBadFraction: 0.1}); err == nil || !strings.Contains(err.Error(), "input list changed") {
		t.Errorf("changed inputs: %v", err)
	}
	if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src, ccDir + "whirlwind.warc.wet.gz"}, Out: out, Filters: DefaultFilters(), MaxBadFraction: 0.1}); err == nil || !strings.Contains(err.Error(), "other format/filter/dedup settings") {
		t.Errorf("changed filters: %v", err)
	}
	os.WriteFile(filepath.Join(out, "tokenizer.json"), []byte("{}"), 0o644)
	if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src}, Out: out, Filters: MinimalFilters(), MaxBadFraction: 0.1}); err == nil || !strings.Contains(err.Error(), "another tokenizer") {
		t.Errorf("other tokenizer: %v", err)
	}
}

// dedupFixture writes shards with known duplicates and returns their paths.
func dedupFixture(t *testing.T) []string {
	dir := t.TempDir()
	doc := func(seed int) string { // distinct documents: seeded random words
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		w := make([]string, 190)
		for i := range w {
			w[i] = fmt.Sprintf("word%d", r.IntN(5000))
		}
		return fmt.Sprintf("Story %d. %s.", seed, strings.Join(w, " "))
	}
	near := func(s string) string { // change 3 words of ~190
		w := strings.Fields(s)
		w[len(w)-2], w[len(w)-40], w[len(w)-80] = "changed", "altered", "edited"
		return strings.Join(w, " ")
	}
	shards := [][]string{
		{doc(1), doc(2), doc(3)},
		{"  STORY" + doc(1)[5:] + " !", doc(4), near(doc(2))}, // exact dup of 0:1, near dup of 0:2
		{doc(5), doc(4), near(doc(5))},                        // exact dup of 1:2, near dup of 2:1
	}
	var paths []string
	for i, docs := range shards {
		var b strings.Builder
		for _, d := range docs {
			j, _ := json.Marshal(map[string]string{"text": d})
			b.Write(j)
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, fmt.Sprintf("part-%d.jsonl", i))
		os.WriteFile(p, []byte(b.String()), 0o644)
		paths = append(paths, p)
	}
	return paths
}

func TestPrepareDedup(t *testing.T) {
	inputs := dedupFixture(t)
	out := t.TempDir()
	rep, err := Prepare(context.Background(), PrepareConfig{Inputs: inputs, Out: out, Filters: MinimalFilters(), Dedup: DefaultDedup(), Workers: 2, DroppedSamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kept != 5 || rep.Dropped["exact_duplicate"] != 2 || rep.Dropped["near_duplicate"] != 2 {
		t.Fatalf("report: %s", rep)
	}
	// The same corpus over 2 jobs, stage by stage, gives the same shards.
	out2 := t.TempDir()
	for _, stage := range []string{StageSignatures, StageDedup, StageTokenize} {
		if stage == StageTokenize { // job 1 lost its token cache: it re-reads its shards
			os.RemoveAll(filepath.Join(out2, ".work", "tok", "000001.bin"))
		}
		for job := range 2 {
			if _, err := Prepare(context.Background(), PrepareConfig{Inputs: inputs, Out: out2, Filters: MinimalFilters(), Dedup: DefaultDedup(), Stage: stage, ShardIndex: job, NumShards: 2}); err != nil {
				t.Fatalf("%s job %d: %v", stage, job, err)
			}
		}
	}
	for i := range inputs {
		a, _ := os.ReadFile(filepath.Join(out, OutputName(i)))
		b, _ := os.ReadFile(filepath.Join(out2, OutputName(i)))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("shard %d differs between 1 job and 2 jobs (%d vs %d bytes)", i, len(a), len(b))
		}
	}
	if _, err := os.Stat(filepath.Join(out2, data.ManifestFile)); err != nil {
		t.Error("no manifest after the last job")
	}
}

func TestDroppedSamples(t *testing.T) {
	out := t.TempDir()
	src := ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
	if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{src}, Out: out, Filters: DefaultFilters(), MaxBadFraction: 0.1, DroppedSamples: 1}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ".work", "dropped", "000000.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var s DroppedSample
		if err := json.Unmarshal([]byte(line), &s); err != nil || !strings.HasPrefix(s.Where, src+":") {
			t.Fatalf("sample %q: %v", line, err)
		}
		reasons[s.Reason]++
	}
	if reasons["stop_words"] != 1 || reasons["too_few_words"] != 1 || len(reasons) < 5 {
		t.Errorf("samples per reason %v", reasons)
	}
}

func TestMinHashSimilarity(t *testing.T) {
	mh := NewMinHasher(DefaultDedup())
	a := mh.Signature(goodText)
	w := strings.Fields(goodText)
	w[10], w[50] = "x", "y"
	b := mh.Signature(strings.Join(w, " "))
	c := mh.Signature("A completely different text about computers, networks and the people who build them every day of the week.")
	if j := Jaccard(a, b); j < 0.8 {
		t.Errorf("near copy similarity %.2f", j)
	}
	if j := Jaccard(a, c); j > 0.1 {
		t.Errorf("unrelated similarity %.2f", j)
	}
	if ExactHash("Hello,  World!") != ExactHash("hello world") || ExactHash("hello world") == ExactHash("hello there") {
		t.Error("exact hash normalisation")
	}
}

func TestPrepareBadInputThreshold(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(p, []byte("{\"text\":\"good one\"}\n{broken\n{\"text\":\"good two\"}\n"), 0o644)
	_, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{p}, Out: t.TempDir(), Filters: MinimalFilters(), MaxBadFraction: 0.1})
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl: 1 problem in 3 records") || !strings.Contains(err.Error(), "bad.jsonl:2: not a JSON object") {
		t.Errorf("error %v", err)
	}
	rep, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{p}, Out: t.TempDir(), Filters: MinimalFilters(), MaxBadFraction: 0.5})
	if err != nil || rep.Kept != 2 || rep.Problems["bad_json"] != 1 {
		t.Errorf("with a higher limit: %v %v", err, rep)
	}
}

// TestPrepareCancel: cancelling the context stops every stage at its next document; Prepare
// returns ctx's error, writes no manifest, calls nothing after it returns, and a rerun
// finishes with the same shards as a run that was never stopped.
func TestPrepareCancel(t *testing.T) {
	inputs := dedupFixture(t)
	cc := ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
	inputs = append(inputs, cc)
	cfg := func(out string) PrepareConfig {
		return PrepareConfig{Inputs: inputs, Out: out, Filters: MinimalFilters(), Dedup: DefaultDedup(), MaxBadFraction: 0.1, Workers: 2}
	}
	want := t.TempDir()
	if _, err := Prepare(context.Background(), cfg(want)); err != nil {
		t.Fatal(err)
	}

	if _, err := Prepare(canceled(), cfg(t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v, want context.Canceled", err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := cfg(out)
	var calls, after atomic.Int64
	var returned atomic.Bool
	c.Progress = func(done, total int64) {
		if calls.Add(1) == 1 {
			cancel() // as Ctrl-C would, while the first shards are being read
		}
		if returned.Load() {
			after.Add(1)
		}
	}
	rep, err := Prepare(ctx, c)
	returned.Store(true)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped in the signatures stage") {
		t.Fatalf("cancelled run: %v, want the stage and context.Canceled", err)
	}
	if rep == nil || rep.Documents >= 697 {
		t.Errorf("cancelled run read %v documents; it should have stopped early", rep)
	}
	if _, err := os.Stat(filepath.Join(out, data.ManifestFile)); err == nil {
		t.Error("a cancelled run wrote a manifest")
	}
	if after.Load() != 0 {
		t.Errorf("%d progress calls after Prepare returned: work still running", after.Load())
	}

	if _, err := Prepare(context.Background(), cfg(out)); err != nil {
		t.Fatalf("rerun after cancel: %v", err)
	}
	for i := range inputs {
		a, _ := os.ReadFile(filepath.Join(want, OutputName(i)))
		b, _ := os.ReadFile(filepath.Join(out, OutputName(i)))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("shard %d differs after a cancel and a rerun (%d vs %d bytes)", i, len(a), len(b))
		}
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestPrepareOptionNames: Prepare's errors name its options by field name; OptionNames (as
// cmd/prepare sets it to PrepareFlags) renames them.
func TestPrepareOptionNames(t *testing.T) {
	cfg := PrepareConfig{Inputs: []string{"x"}, Out: t.TempDir(), ShardIndex: 2, NumShards: 2}
	if _, err := Prepare(context.Background(), cfg); err == nil || err.Error() != "ShardIndex 2 must be in [0, NumShards 2)" {
		t.Errorf("plain: %v", err)
	}
	cfg.OptionNames = PrepareFlags
	if _, err := Prepare(context.Background(), cfg); err == nil || err.Error() != "--shard-index 2 must be in [0, --num-shards 2)" {
		t.Errorf("with PrepareFlags: %v", err)
	}
	for _, c := range []PrepareConfig{
		{Inputs: []string{"x"}, Out: "o", MaxBadFraction: 2},
		{Inputs: []string{"x"}, Stage: "all", NumShards: 2, Dedup: DefaultDedup(), Out: "o"},
		{Inputs: []string{"x"}},
	} {
		_, err := Prepare(context.Background(), c)
		if err == nil || strings.Contains(err.Error(), "--") {
			t.Errorf("%v: want an error naming fields, not flags", err)
		}
	}
}
