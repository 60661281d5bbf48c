package evaluate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	tasksDir = filepath.Join("..", "tasks")
	dataDir  = filepath.Join("..", "testdata", "evaldata")
)

func shippedTasks(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(tasksDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no task files in %s: %v", tasksDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return names
}

// TestGoldenPrompts renders the first records of every shipped task and compares each request
// with the one lm-evaluation-harness builds from its own templates
// (testdata/evaldata/make_golden.py writes golden/<task>.json).
func TestGoldenPrompts(t *testing.T) {
	names := shippedTasks(t)
	if len(names) < 14 {
		t.Errorf("%d shipped tasks, want the 14 of issue 14", len(names))
	}
	tasks, err := LoadTasks(tasksDir, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(dataDir, "golden", task.Name+".json"))
		if err != nil {
			t.Errorf("%s: no golden file: %v", task.Name, err)
			continue
		}
		var golden [][]Request
		if err := json.Unmarshal(b, &golden); err != nil {
			t.Fatal(err)
		}
		_, reqs, err := Requests(task, 0, Options{DataDir: dataDir, Limit: len(golden)})
		if err != nil {
			t.Errorf("%s: %v", task.Name, err)
			continue
		}
		var want []Request
		for _, g := range golden {
			want = append(want, g...)
		}
		if len(reqs) != len(want) {
			t.Errorf("%s: %d requests, lm-eval has %d", task.Name, len(reqs), len(want))
			continue
		}
		for i := range reqs {
			if reqs[i].Context != want[i].Context || reqs[i].Continuation != want[i].Continuation {
				t.Errorf("%s request %d:\n got  %q + %q\n want %q + %q", task.Name, i, reqs[i].Context, reqs[i].Continuation, want[i].Context, want[i].Continuation)
			}
		}
	}
}

func TestFewshot(t *testing.T) {
	tasks, err := LoadTasks(tasksDir, []string{"arc_easy", "winogrande", "gsm8k"})
	if err != nil {
		t.Fatal(err)
	}
	arc := tasks[0]
	opts := Options{DataDir: dataDir, Seed: 1234}
	docs, zero, err := Requests(arc, 0, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, three, err := Requests(arc, 3, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, again, _ := Requests(arc, 3, opts)
	for i := range three {
		if three[i] != again[i] {
			t.Fatalf("shots are not a pure function of the seed: %q vs %q", three[i].Context, again[i].Context)
		}
		d := &docs[three[i].Item]
		if !strings.HasSuffix(three[i].Context, "\n\n"+zero[i].Context) || strings.Count(three[i].Context, "\nAnswer: ") != 3 {
			t.Fatalf("3-shot context does not end with the zero-shot one after 3 solved examples:\n%s", three[i].Context)
		}
		if strings.Contains(three[i].Context[:three[i].ShotsLen], d.Query) {
			t.Errorf("item %d (%s) is among its own shots", three[i].Item, d.Where)
		}
	}
	// Few-shot examples carry the gold answer after the target delimiter.
	if !strings.HasPrefix(three[0].Context, "Question: ") {
		t.Errorf("shot does not start with a query: %q", three[0].Context[:40])
	}
	// WinoGrande shots are the gold context + the continuation; gsm8k's come from its own pool.
	_, w, err := Requests(tasks[1], 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w[0].Context == w[1].Context[:len(w[0].Context)] && w[0].ShotsLen == 0 {
		t.Errorf("winogrande 1-shot has no shot: %q", w[0].Context)
	}
	_, g, err := Requests(tasks[2], 2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(g[0].Context, "#### ") != 2 {
		t.Errorf("gsm8k 2-shot context should hold two solved training examples:\n%s", g[0].Context)
	}
}

func writeTask(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadTaskFiles(t *testing.T) {
	cases := []struct{ body, want string }{
		{"task: x\ndata: eval/piqa.jsonl\noutput: multiple_choice\nquery: q\nchoices: [a]\ngold: \"0\"\nmetrics: [acc]\ncolour: red\n", "bad.yaml:8: colour: unknown key"},
		{"task: x\ndata: d.jsonl\noutput: multi\nmetrics: [acc]\n", "bad.yaml:3: task \"x\": output: \"multi\" is not one of"},
		{"task: x\ndata: d.jsonl\noutput: multiple_choice\nquery: \"{{q|shout}}\"\nchoices: [a]\ngold: \"0\"\nmetrics: [acc]\n", "bad.yaml:4: task \"x\": query: template \"{{q|shout}}\": unknown filter \"shout\""},
		{"task: x\ndata: d.jsonl\noutput: multiple_choice\nquery: \"{{q\"\nchoices: [a]\ngold: \"0\"\nmetrics: [acc]\n", "never closed"},
		{"task: x\ndata: d.jsonl\noutput: multiple_choice\nquery: q\nchoices: [a]\ngold: \"0\"\nmetrics: [bleu]\n", "bad.yaml:7: task \"x\": metrics: \"bleu\" does not apply"},
		{"task: x\ndata: d.jsonl\noutput: generate_until\nquery: q\nmetrics: [exact_match]\n", "target: missing"},
	}
	for _, c := range cases {
		_, err := LoadTask(writeTask(t, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

func TestRecordMissingField(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.jsonl")
	os.WriteFile(data, []byte("{\"q\":\"a\",\"choices\":[\"x\",\"y\"],\"gold\":0}\n\n{\"q\":\"b\",\"gold\":1}\n"), 0o644)
	task, err := LoadTask(writeTask(t, "task: mini\ndata: d.jsonl\noutput: multiple_choice\nquery: \"{{q}}\"\nchoices: [\"{{choices}}\"]\ngold: \"{{gold}}\"\nmetrics: [acc]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Requests(task, 0, Options{DataDir: dir})
	want := "task mini: " + data + ":3: choices: field \"choices\": missing"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	os.WriteFile(data, []byte("{\"q\":\"a\",\"choices\":[\"x\",\"y\"],\"gold\":2}\n"), 0o644)
	if _, _, err = Requests(task, 0, Options{DataDir: dir}); err == nil || !strings.Contains(err.Error(), ":1: gold: 2 is not an index of the 2 choices") {
		t.Errorf("gold out of range: %v", err)
	}
}

func TestTemplateFilters(t *testing.T) {
	rec := map[string]any{"a": " Hello [x] world  ", "l": []any{"One", "two."}, "n": 3.0, "o": map[string]any{"k": "v"}, "s": "x; y;z"}
	cases := map[string]string{
		"{{a|trim}}":                                "Hello [x] world",
		`{{a|re_replace:"\\[.*?\\]",""|trim}}`:      "Hello  world",
		"{{l[1]}}-{{o.k}}-{{n}}":                    "two.-v-3",
		`{{l|period|join:"|"}}`:                     "One.|two.",
		`{{s|split:";"|trim|count}}`:                "3",
		`{{l[0]|lower_first}} {{"ABC"|capitalize}}`: "one Abc",
		`{{a|match:"\\[(.)\\]"}}`:                   "x",
		`{{n|add:-1}}`:                              "2",
	}
	for src, want := range cases {
		tp, err := ParseTemplate(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got, err := tp.RenderString(rec)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", src, got, err, want)
		}
	}
}
