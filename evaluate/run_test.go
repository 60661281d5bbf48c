package evaluate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAllShippedTasks runs every shipped task end to end on a tiny imported model (RoPE, run
// with a 256-token context) over the first records in testdata.
func TestRunAllShippedTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 256 tokens for each GSM8K item")
	}
	lm := importedLM(t, "hf-llama-tiny")
	lm.Cfg.SeqLen = 256 // RoPE: any context; long enough for every answer, not for 5 GSM8K shots
	s, err := NewScorer(lm, 4)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := LoadTasks(tasksDir, shippedTasks(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.Name == "gsm8k" {
			task.MaxGenTokens = 8
		}
	}
	prompts := t.TempDir()
	var log strings.Builder
	rep, err := Run(s, tasks, Options{DataDir: dataDir, NumFewshot: -1, Seed: 1, Limit: 3, BootstrapIters: 200, WritePrompts: prompts, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range rep.Results {
		seen[m.Task+"/"+m.Metric+"/"+m.Filter] = true
		if math.IsNaN(float64(m.Value)) || m.Items != 3 {
			t.Errorf("%s %s: value %v over %d items", m.Task, m.Metric, m.Value, m.Items)
		}
		if m.Metric != "perplexity" && (m.Value < 0 || m.Value > 1) {
			t.Errorf("%s %s = %v outside [0, 1]", m.Task, m.Metric, m.Value)
		}
		if m.Stderr == nil {
			t.Errorf("%s %s: no standard error", m.Task, m.Metric)
		}
	}
	for _, want := range []string{"piqa/acc_norm/", "lambada_openai/perplexity/", "gsm8k/exact_match/strict-match", "gsm8k/exact_match/flexible-extract", "truthfulqa_mc2/acc/", "winogrande/acc/"} {
		if !seen[want] {
			t.Errorf("no %s in the report", want)
		}
	}
	for _, st := range rep.Tasks {
		if st.Task == "gsm8k" && (st.K != 5 || st.ShotsCut == 0) {
			t.Errorf("gsm8k: k=%d (task default 5), %d prompts with cut shots in a 256-token context", st.K, st.ShotsCut)
		}
		if _, err := os.Stat(filepath.Join(prompts, st.Task+".jsonl")); err != nil {
			t.Errorf("--write-prompts: %v", err)
		}
	}
	if !strings.Contains(log.String(), "gsm8k: 3 of 3 items do not fit") {
		t.Errorf("no warning about cut shots:\n%s", log.String())
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "truthfulqa_mc1") || !strings.Contains(table.String(), "± ") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestRunRolling scores a text file as one rolling document: bits per byte and the
// perplexities are the same sums the scorer gives.
func TestRunRolling(t *testing.T) {
	lm := importedLM(t, "hf-gpt2-tiny")
	s, err := NewScorer(lm, 4)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
	os.WriteFile(filepath.Join(dir, "doc.txt"), []byte(text), 0o644)
	task, err := LoadTask(writeTask(t, "task: doc\ndata: doc.txt\noutput: loglikelihood_rolling\ntarget: \"{{text}}\"\nmetrics: [word_perplexity, byte_perplexity, bits_per_byte]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(s, []*Task{task}, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.LoglikelihoodRolling([]string{text}, nil)
	want := map[string]float64{
		"word_perplexity": math.Exp(-r[0].LogProb / float64(CountWords(text))),
		"byte_perplexity": math.Exp(-r[0].LogProb / float64(len(text))),
		"bits_per_byte":   -r[0].LogProb / float64(len(text)) / math.Ln2,
	}
	for _, m := range rep.Results {
		if math.Abs(float64(m.Value)-want[m.Metric]) > 1e-9 || m.Stderr != nil {
			t.Errorf("%s = %v (stderr %v), want %v and none (lm-eval reports N/A)", m.Metric, m.Value, m.Stderr, want[m.Metric])
		}
	}
	if rep.Tasks[0].Tokens != len(lm.Tok.Encode(text)) {
		t.Errorf("%d tokens, want every token once", rep.Tasks[0].Tokens)
	}
}
