package finetune

import (
	"bytes"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/janpfeifer/must"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/tokenizer"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func sft(name string) string { return filepath.Join(repoRoot(), "testdata/sft", name) }

func dataCfg(sets func(*DataConfig)) DataConfig {
	dc := DefaultConfig().Data
	if sets != nil {
		sets(&dc)
	}
	return dc
}

func read(t *testing.T, dc DataConfig, files ...string) *Dataset {
	t.Helper()
	ds, err := ReadFiles(files, dc)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestFormatsDetected(t *testing.T) {
	cases := []struct {
		line, format, prompt, completion string
	}{
		{`{"text": "hello world"}`, "text", "", "hello world"},
		{`{"prompt": "Q: 1+1=", "completion": " 2"}`, "prompt_completion", "Q: 1+1=", " 2"},
		{`{"text": "great", "label": "pos"}`, "classification", "great\nLabel: ", "pos"},
		{`{"text": "great", "label": 1}`, "classification", "great\nLabel: ", "1"},
		{`{"instruction": "Add", "input": "1 2", "output": "3"}`, "alpaca", "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd\n\n### Input:\n1 2\n\n### Response:\n", "3"},
		{`{"instruction": "Say hi", "input": "", "output": "hi"}`, "alpaca", "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nSay hi\n\n### Response:\n", "hi"},
		{`{"question": "2+2?", "answer": "4\n#### 4"}`, "qa", "Question: 2+2?\nAnswer: ", "4\n#### 4"},
		{`{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}`, "chat", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "hello<|im_end|>\n"},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.format] = true
		// Detected (data.format: auto), then declared: the same example.
		for _, declared := range []string{"auto", c.format} {
			ds, err := ReadBytes("x.jsonl", []byte(c.line+"\n"), dataCfg(func(dc *DataConfig) { dc.Format = declared }))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Examples) != 1 {
				t.Fatalf("%s (format %s): problems %v", c.line, declared, ds.Problems)
			}
			e := ds.Examples[0]
			if e.Format != c.format || e.Prompt() != c.prompt || e.Completion() != c.completion || e.Where != "x.jsonl:1" {
				t.Errorf("%s (format %s):\n got format %q prompt %q completion %q at %s\nwant format %q prompt %q completion %q", c.line, declared, e.Format, e.Prompt(), e.Completion(), e.Where, c.format, c.prompt, c.completion)
			}
		}
	}
	for _, f := range formatTable {
		if !covered[f.name] {
			t.Errorf("format %s has no case here", f.name)
		}
	}
	// A record of no known shape: the message lists every shape the table detects.
	ds := must.M1(ReadBytes("x.jsonl", []byte(`{"body": "hi"}`+"\n"), dataCfg(nil)))
	want := "x.jsonl:1: cannot tell the format from keys [body]; want messages, prompt+completion, text+label, text, instruction+output or question+answer"
	if len(ds.Problems) != 1 || !strings.HasPrefix(ds.Problems[0].String(), want) {
		t.Errorf("problems %v, want one starting %q", ds.Problems, want)
	}
}

func TestFieldMappingRealData(t *testing.T) {
	// GSM8K through a field mapping with a template, and through the qa preset.
	ds := read(t, dataCfg(func(dc *DataConfig) {
		dc.Fields = map[string]string{"prompt": "Q: {question}\nA: ", "completion": "answer"}
	}), sft("gsm8k_first40.jsonl"))
	if len(ds.Examples) != 40 || len(ds.Problems) != 0 {
		t.Fatalf("%d examples, problems %v", len(ds.Examples), ds.Problems)
	}
	e := ds.Examples[0]
	if !strings.HasPrefix(e.Prompt(), "Q: Natalia sold clips") || !strings.HasSuffix(e.Completion(), "#### 72") || e.Format != "prompt_completion" {
		t.Errorf("mapped GSM8K: prompt %q completion %q", e.Prompt(), e.Completion())
	}
	if FinalAnswer(e.Completion()) != "72" {
		t.Errorf("final answer %q", FinalAnswer(e.Completion()))
	}
	// A missing mapped field is a problem at its line.
	ds = read(t, dataCfg(func(dc *DataConfig) { dc.Fields = map[string]string{"prompt": "query", "completion": "answer"} }), sft("gsm8k_first40.jsonl"))
	if len(ds.Examples) != 0 || len(ds.Problems) != 40 || !strings.HasSuffix(ds.Problems[3].String(), "gsm8k_first40.jsonl:4: missing field \"query\" (data.fields.prompt)") {
		t.Errorf("problems: %v", ds.Problems[:2])
	}
	// Alpaca as a JSON array (line numbers of the elements) and as JSONL.
	ds = read(t, dataCfg(nil), sft("alpaca_first5.json"))
	if len(ds.Examples) != 5 || ds.Examples[1].Where != sft("alpaca_first5.json")+":7" || ds.Examples[0].Completion() != "No" {
		t.Errorf("alpaca array: %d examples, second at %s", len(ds.Examples), ds.Examples[1].Where)
	}
	ds = read(t, dataCfg(nil), sft("alpaca_short.jsonl"))
	if len(ds.Examples) != 240 || ds.Examples[0].Format != "alpaca" {
		t.Errorf("alpaca jsonl: %d examples", len(ds.Examples))
	}
}

func TestChatTemplates(t *testing.T) {
	ds := read(t, dataCfg(func(dc *DataConfig) { dc.Template = sft("template.yaml") }), sft("chat.jsonl"))
	if len(ds.Examples) != 3 {
		t.Fatal(ds.Problems)
	}
	e := ds.Examples[1]
	want := "[user] Capital of France?\n[bot] Paris. [end]\n[user] And of Italy?\n[bot] Rome. [end]\n"
	if e.Text() != want {
		t.Errorf("rendered %q, want %q", e.Text(), want)
	}
	var trained string
	for _, s := range e.Segments {
		if s.Train {
			trained += s.Text
		}
	}
	if trained != "Paris. [end]\nRome. [end]\n" {
		t.Errorf("trained text %q: want both assistant turns with their end markers", trained)
	}
	if e.Prompt() != "[user] Capital of France?\n[bot] Paris. [end]\n[user] And of Italy?\n[bot] " || e.Answer() != "Rome." {
		t.Errorf("prompt %q answer %q", e.Prompt(), e.Answer())
	}
	tmpl := must.M1(chattemplate.Load("chatml"))
	if p := must.M1(tmpl.GenerationPrompt([]map[string]any{{"role": "user", "content": "hi"}})); p != "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("generation prompt %q", p)
	}
	for name := range chattemplate.Templates {
		if _, err := ReadFiles([]string{sft("chat.jsonl")}, dataCfg(func(dc *DataConfig) { dc.Template = name })); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := chattemplate.Load("nonesuch"); err == nil || !strings.Contains(err.Error(), "chatml") {
		t.Errorf("unknown template: %v", err)
	}
}

func TestBadInputReported(t *testing.T) {
	var log bytes.Buffer
	ds := read(t, dataCfg(nil), sft("bad.jsonl"))
	ds.Report(&log, "data.train", 0)
	f := sft("bad.jsonl")
	want := []string{
		f + ":2: malformed JSON: unexpected end of input",
		f + ":3: missing field \"completion\": nothing to train on",
		f + ":4: messages[1]: unknown role \"bot\"; want system, user or assistant",
		f + ":5: empty \"completion\": nothing to train on",
		f + ":8: malformed record: want a JSON object, got a JSON list",
	}
	for _, w := range want {
		if !strings.Contains(log.String(), w+"\n") {
			t.Errorf("report lacks %q:\n%s", w, log.String())
		}
	}
	if ds.Records != 8 || len(ds.Examples) != 3 || ds.Dropped() != 5 {
		t.Errorf("records %d, examples %d, dropped %d; want 8, 3, 5", ds.Records, len(ds.Examples), ds.Dropped())
	}
	if err := ds.CheckBad(0.5, "data.train"); err == nil || !strings.Contains(err.Error(), "5 of 8 records") {
		t.Errorf("over the threshold: %v", err)
	}
	if err := ds.CheckBad(0.7, "data.train"); err != nil {
		t.Errorf("under the threshold: %v", err)
	}
}

func TestOverflowAndRows(t *testing.T) {
	tok := tokenizer.NewByte()
	lines := `{"prompt": "abc", "completion": "de"}
{"prompt": "0123456789", "completion": "xyz"}
{"prompt": "p", "completion": "q"}
`
	for _, policy := range []string{"drop", "truncate", "split"} {
		dc := dataCfg(func(dc *DataConfig) { dc.Overflow = policy })
		ds, _ := ReadBytes("m.jsonl", []byte(lines), dc)
		toks := Encode(ds, tok, 8, dc) // rows of 9 tokens; line 2 is 14 tokens with EOT
		if policy == "split" {
			// Rows overlap by one id: ids 0-8 (prompt only: no target, skipped) and 8-13.
			if len(toks) != 3 || ds.Dropped() != 0 || toks[1].Example != 1 || toks[1].Targets() != 4 || len(toks[1].IDs) != 6 ||
				!strings.Contains(ds.Problems[0].String(), "m.jsonl:2: example is 14 tokens, split into 1 rows") {
				t.Errorf("split: %d kept, problems %v", len(toks), ds.Problems)
			}
			continue
		}
		if policy == "drop" {
			if len(toks) != 2 || ds.Dropped() != 1 || !strings.Contains(ds.Problems[0].String(), "m.jsonl:2: example is 14 tokens, over the 9 of a row") {
				t.Errorf("drop: %d kept, problems %v", len(toks), ds.Problems)
			}
			continue
		}
		// The prompt alone (10 tokens) fills the row: nothing left to train, dropped and counted.
		if len(toks) != 2 || ds.Dropped() != 1 || !strings.Contains(ds.Problems[0].String(), "no completion token left after truncation") {
			t.Errorf("truncate: %d kept, problems %v", len(toks), ds.Problems)
		}
		// Its advice must not be "set data.overflow to truncate" again (issue 10, item 14).
		err := ds.CheckBad(0, "m.jsonl")
		if err == nil || strings.Contains(err.Error(), "set data.overflow") || !strings.Contains(err.Error(), "prompt that alone fills the context") {
			t.Errorf("truncate advice: %v", err)
		}
	}
	// Masking layout: "abc"+"de"+EOT -> targets predicting d, e, EOT are weighted.
	ds, _ := ReadBytes("m.jsonl", []byte(`{"prompt": "abc", "completion": "de"}`+"\n"+`{"prompt": "p", "completion": "q"}`), dataCfg(nil))
	toks := Encode(ds, tok, 8, dataCfg(nil))
	rows, w := Rows(toks, 8, false, 256)
	if len(rows) != 2 || string(bytesOf(rows[0][:5])) != "abcde" || rows[0][5] != 256 || rows[0][6] != 256 {
		t.Fatalf("padded rows %v", rows)
	}
	if got := w[0]; !slices.Equal(got, []float32{0, 0, 1, 1, 1, 0, 0, 0}) {
		t.Errorf("weights %v: want targets d, e, EOT only", got)
	}
	rows, w = Rows(toks, 8, true, 256) // packed: 6 + 3 tokens fill the 9-token row
	if len(rows) != 1 || !slices.Equal(w[0], []float32{0, 0, 1, 1, 1, 0, 1, 1}) {
		t.Errorf("packed rows %v weights %v: the first token of the second example must not be a target", rows, w)
	}
	// train_on_all counts the prompt too.
	all := Encode(ds, tok, 8, dataCfg(func(dc *DataConfig) { dc.TrainOnAll = true }))
	_, w = Rows(all[:1], 8, false, 256)
	if !slices.Equal(w[0], []float32{1, 1, 1, 1, 1, 0, 0, 0}) {
		t.Errorf("train_on_all weights %v", w[0])
	}
}

func TestSplitLongText(t *testing.T) {
	// Continued pretraining on a text longer than a row: every target lands in exactly one row.
	text := strings.Repeat("abcdefghij", 5) // 50 bytes + EOT = 51 ids, 50 targets
	dc := dataCfg(func(dc *DataConfig) { dc.Overflow = "split" })
	ds, _ := ReadBytes("t.jsonl", []byte(`{"text": "`+text+`"}`), dc)
	toks := Encode(ds, tokenizer.NewByte(), 16, dc)
	rows, ws := Rows(toks, 16, false, 256)
	n := 0
	for i := range rows {
		for _, w := range ws[i] {
			n += int(w)
		}
	}
	if len(rows) != 4 || n != 50 || rows[1][0] != rows[0][16] {
		t.Errorf("%d rows with %d targets, want 4 rows (16+16+16+2 targets) with 50", len(rows), n)
	}
}

func TestSourceIsPureFunctionOfStep(t *testing.T) {
	var rows [][]int32
	var ws [][]float32
	for i := 0; i < 5; i++ {
		rows = append(rows, []int32{int32(i), 0, 0})
		ws = append(ws, []float32{1, 1})
	}
	a := NewSource(rows, ws, nil, nil, 2, 7, 1, 0)
	b := NewSource(rows, ws, nil, nil, 2, 7, 1, 0)
	seen := map[int32]int{}
	for s := int64(0); s < 5; s++ { // 10 rows = 2 epochs
		ba := a.Train(s)
		seen[ba.Tokens[0]]++
		seen[ba.Tokens[3]]++
	}
	for s := int64(4); s >= 0; s-- { // any order
		if !slices.Equal(b.Train(s).Tokens, a.Train(s).Tokens) {
			t.Fatalf("step %d differs when visited in another order", s)
		}
	}
	for i := int32(0); i < 5; i++ {
		if seen[i] != 2 {
			t.Errorf("row %d seen %d times in two epochs", i, seen[i])
		}
	}
}

func TestKShotPrompt(t *testing.T) {
	ds := read(t, dataCfg(nil), sft("gsm8k_first40.jsonl"))
	q := &ds.Examples[0]
	p1 := KShotPrompt(ds.Examples, q, ShotOptions{K: 3, Seed: 1})
	p2 := KShotPrompt(ds.Examples, q, ShotOptions{K: 3, Seed: 1})
	p3 := KShotPrompt(ds.Examples, q, ShotOptions{K: 3, Seed: 2})
	if p1 != p2 || p1 == p3 {
		t.Error("k-shot prompts must be a pure function of the seed")
	}
	if strings.Count(p1, "Question: ") != 4 || strings.Count(p1, "#### ") != 3 || !strings.HasSuffix(p1, q.Prompt()) {
		t.Errorf("want 3 solved shots then the query:\n%s", p1)
	}
	if strings.Count(p1, q.Prompt()) != 1 {
		t.Error("the query appears among its own shots")
	}
	if z := KShotPrompt(ds.Examples, q, ShotOptions{}); z != q.Prompt() {
		t.Errorf("zero-shot prompt %q", z)
	}
}

func bytesOf(ids []int32) []byte {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return b
}

func TestPrepareDataSplits(t *testing.T) {
	tok := tokenizer.NewByte()
	// A given validation file.
	dc := dataCfg(func(dc *DataConfig) {
		dc.Train, dc.Val = []string{sft("classify.jsonl")}, []string{sft("chat.jsonl")}
		dc.Template = "plain"
	})
	d := must.M1(PrepareData(dc, tok, 128, 1, io.Discard))
	if len(d.TrainEx) != 6 || len(d.ValEx) != 3 || len(d.TrainToks) != 6 || len(d.ValToks) != 3 {
		t.Errorf("train %d/%d, val %d/%d; want 6 and 3", len(d.TrainEx), len(d.TrainToks), len(d.ValEx), len(d.ValToks))
	}
	// A seeded held-out fraction: the same seed holds out the same examples.
	dc = dataCfg(func(dc *DataConfig) { dc.Train, dc.ValFraction = []string{sft("alpaca_short.jsonl")}, 0.1 })
	a := must.M1(PrepareData(dc, tok, 512, 7, io.Discard))
	b := must.M1(PrepareData(dc, tok, 512, 7, io.Discard))
	if len(a.ValEx) != 24 || len(a.TrainEx) != 216 || a.ValEx[0].Where != b.ValEx[0].Where || a.ValEx[23].Where != b.ValEx[23].Where {
		t.Errorf("held out %d of %d", len(a.ValEx), len(a.TrainEx)+len(a.ValEx))
	}
	// Too many bad records stop the run, naming the first.
	dc = dataCfg(func(dc *DataConfig) { dc.Train = []string{sft("bad.jsonl")} })
	if _, err := PrepareData(dc, tok, 128, 1, io.Discard); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2: malformed JSON") {
		t.Errorf("bad data: %v", err)
	}
}
