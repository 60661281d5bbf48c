package evaluate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/golem-ml/golem/config"
)

// Output types, as lm-evaluation-harness names them.
const (
	MultipleChoice       = "multiple_choice"
	Loglikelihood        = "loglikelihood"
	LoglikelihoodRolling = "loglikelihood_rolling"
	GenerateUntil        = "generate_until"
)

// Task is one benchmark, declared in a tasks/*.yaml file (see tasks/README.md). Templates
// (query, choices, gold, ...) read fields of a record; see Template.
type Task struct {
	Name    string `yaml:"task"`
	Version string `yaml:"version"` // of the lm-eval task whose prompts this follows
	Data    string `yaml:"data"`    // records: .jsonl, .csv (header row) or .txt (one document); relative to the data folder
	Output  string `yaml:"output"`  // multiple_choice, loglikelihood, loglikelihood_rolling or generate_until

	Query       string   `yaml:"query"`        // text before the answer (lm-eval's doc_to_text)
	Contexts    string   `yaml:"contexts"`     // multiple_choice with one context per choice and one continuation (target): WinoGrande's partial evaluation
	Choices     []string `yaml:"choices"`      // each template gives one choice or a list of them
	Gold        string   `yaml:"gold"`         // index of the right choice (or context)
	TrueChoices string   `yaml:"true_choices"` // mc2: the first true_choices choices are true, the rest false
	Target      string   `yaml:"target"`       // answer text: the continuation, the reference, or the rolling document

	TargetDelimiter  *string `yaml:"target_delimiter"`  // between query and answer; default " "
	FewshotSeparator *string `yaml:"fewshot_separator"` // between examples; default "\n\n"
	FewshotData      string  `yaml:"fewshot_data"`      // pool of examples; default: data itself, never the scored record
	NumFewshot       *int    `yaml:"num_fewshot"`       // shots when --num-fewshot is not given (gsm8k: 5)

	Until        []string  `yaml:"until"`          // generate_until: stop strings
	MaxGenTokens int       `yaml:"max_gen_tokens"` // generate_until: default 256
	Extract      []Extract `yaml:"extract"`        // generate_until: answer filters; exact_match is reported for each
	ExactMatch   MatchOpts `yaml:"exact_match"`    // normalisation before comparing with the target
	Metrics      []string  `yaml:"metrics"`        // see Metrics in metrics.go

	File string `yaml:"-"` // the task file, for messages

	query, contexts, gold, trueChoices, target *Template
	choices                                    []*Template
}

// Extract is lm-eval's regex filter: the answer is the group_select-th match of regex in the
// generated text (0 first, -1 last), else fallback.
type Extract struct {
	Name        string `yaml:"name"`
	Regex       string `yaml:"regex"`
	GroupSelect int    `yaml:"group_select"`
	Fallback    string `yaml:"fallback"` // default "[invalid]"
	re          *regexp.Regexp
}

// MatchOpts are the exact_match options of Hugging Face evaluate, which lm-eval uses.
type MatchOpts struct {
	IgnoreCase        bool     `yaml:"ignore_case"`
	IgnorePunctuation bool     `yaml:"ignore_punctuation"`
	RegexesToIgnore   []string `yaml:"regexes_to_ignore"`
	res               []*regexp.Regexp
}

// LoadTask reads and checks one task file.
func LoadTask(path string) (*Task, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading task: %w", err)
	}
	t := &Task{File: path}
	if err := config.Decode(b, path, t); err != nil {
		return nil, err
	}
	if err := t.compile(b); err != nil {
		return nil, err
	}
	return t, nil
}

// compile checks the fields and parses the templates; errors name the file, line and key.
func (t *Task) compile(src []byte) error {
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%s:%d: task %q: %s: %s", t.File, lineOf(src, key), t.Name, key, fmt.Sprintf(format, a...))
	}
	if t.Name == "" {
		return bad("task", "missing; name the task (task: piqa)")
	}
	if t.Data == "" {
		return bad("data", "missing; give the records file relative to the data folder (data: eval/piqa.jsonl)")
	}
	parse := func(key, src string, required bool) (*Template, error) {
		if src == "" {
			if required {
				return nil, bad(key, "missing; a %s task needs it", t.Output)
			}
			return nil, nil
		}
		tp, err := ParseTemplate(src)
		if err != nil {
			return nil, bad(key, "%v", err)
		}
		return tp, nil
	}
	var err error
	switch t.Output {
	case MultipleChoice:
		if t.Contexts == "" && len(t.Choices) == 0 {
			return bad("choices", "missing; a multiple_choice task needs choices (or contexts and target)")
		}
		if t.Contexts != "" && t.Target == "" {
			return bad("target", "missing; with contexts, the target is the continuation scored after each")
		}
	case Loglikelihood, GenerateUntil:
		if t.Target == "" {
			return bad("target", "missing; a %s task needs the answer text", t.Output)
		}
	case LoglikelihoodRolling:
	default:
		return bad("output", "%q is not one of %s, %s, %s, %s", t.Output, MultipleChoice, Loglikelihood, LoglikelihoodRolling, GenerateUntil)
	}
	if t.query, err = parse("query", t.Query, t.Output != LoglikelihoodRolling && t.Contexts == ""); err != nil {
		return err
	}
	if t.contexts, err = parse("contexts", t.Contexts, false); err != nil {
		return err
	}
	if t.gold, err = parse("gold", t.Gold, t.Output == MultipleChoice); err != nil {
		return err
	}
	if t.trueChoices, err = parse("true_choices", t.TrueChoices, false); err != nil {
		return err
	}
	if t.target, err = parse("target", t.Target, t.Output == LoglikelihoodRolling); err != nil {
		return err
	}
	for _, c := range t.Choices {
		tp, err := parse("choices", c, true)
		if err != nil {
			return err
		}
		t.choices = append(t.choices, tp)
	}
	for i := range t.Extract {
		x := &t.Extract[i]
		if x.re, err = regexp.Compile(x.Regex); err != nil {
			return bad("extract", "filter %q: regex %q: %v", x.Name, x.Regex, err)
		}
		if x.Fallback == "" {
			x.Fallback = "[invalid]"
		}
	}
	for _, r := range t.ExactMatch.RegexesToIgnore {
		re, err := regexp.Compile(r)
		if err != nil {
			return bad("exact_match", "regexes_to_ignore %q: %v", r, err)
		}
		t.ExactMatch.res = append(t.ExactMatch.res, re)
	}
	if len(t.Metrics) == 0 {
		return bad("metrics", "missing; list what to report, e.g. [acc, acc_norm]")
	}
	for _, m := range t.Metrics {
		if outs, ok := metricOutputs[m]; !ok || !appliesTo(outs, t.Output) {
			return bad("metrics", "%q does not apply to %s tasks; known: %s", m, t.Output, metricNames(t.Output))
		}
	}
	if t.Output == GenerateUntil && slicesContains(t.Metrics, "exact_match") && len(t.Extract) == 0 {
		t.Extract = []Extract{{Name: "none"}}
	}
	if t.NumFewshot != nil && *t.NumFewshot < 0 {
		return bad("num_fewshot", "%d is negative", *t.NumFewshot)
	}
	return nil
}

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// lineOf finds the line of a top-level key in a YAML file (0 when absent).
func lineOf(src []byte, key string) int {
	for i, l := range bytes.Split(src, []byte("\n")) {
		if bytes.HasPrefix(l, []byte(key+":")) {
			return i + 1
		}
	}
	return 0
}

func (t *Task) targetDelimiter() string {
	if t.TargetDelimiter == nil {
		return " "
	}
	return *t.TargetDelimiter
}

func (t *Task) fewshotSeparator() string {
	if t.FewshotSeparator == nil {
		return "\n\n"
	}
	return *t.FewshotSeparator
}

// LoadTasks loads the named tasks from a folder of task files (name.yaml), in the order given.
// An unknown name lists the known ones.
func LoadTasks(dir string, names []string) ([]*Task, error) {
	var out []*Task
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		p := filepath.Join(dir, n+".yaml")
		if _, err := os.Stat(p); err != nil {
			known, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
			for i, k := range known {
				known[i] = strings.TrimSuffix(filepath.Base(k), ".yaml")
			}
			sort.Strings(known)
			return nil, fmt.Errorf("task %q: no %s; known tasks in %s: %s", n, p, dir, strings.Join(known, ", "))
		}
		t, err := LoadTask(p)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Doc is one rendered record of a task.
type Doc struct {
	Where       string   // file:line of the record
	Query       string   // text before the answer
	Contexts    []string // one context per choice (partial evaluation); else nil
	Choices     []string // multiple_choice answers
	Gold        int      // index of the right choice or context
	TrueChoices int      // mc2: the first TrueChoices choices are true
	Target      string   // answer text
}

// shotText is the doc as a solved few-shot example: its question, the delimiter, its answer.
func (d *Doc) shotText(t *Task) string {
	switch {
	case d.Contexts != nil:
		return d.Contexts[d.Gold] + t.targetDelimiter() + d.Target
	case t.Output == MultipleChoice:
		return d.Query + t.targetDelimiter() + d.Choices[d.Gold]
	}
	return d.Query + t.targetDelimiter() + d.Target
}

// record is one raw record with where it came from.
type record struct {
	fields map[string]any
	line   int
}

// ReadDocs reads and renders a task's records from path (resolved against the data folder).
// A record that lacks a field a template reads is an error naming the task, file, line and field.
func (t *Task) ReadDocs(path string) ([]Doc, error) {
	recs, err := readRecords(path)
	if err != nil {
		return nil, fmt.Errorf("task %s (%s): data: %w (data paths are relative to the data folder, evaluate --data-dir)", t.Name, t.File, err)
	}
	docs := make([]Doc, 0, len(recs))
	for _, r := range recs {
		d, err := t.render(r.fields)
		if err != nil {
			return nil, fmt.Errorf("task %s: %s:%d: %w (task file %s)", t.Name, path, r.line, err, t.File)
		}
		d.Where = fmt.Sprintf("%s:%d", path, r.line)
		docs = append(docs, d)
	}
	return docs, nil
}

func (t *Task) render(rec map[string]any) (Doc, error) {
	var d Doc
	var err error
	str := func(key string, tp *Template) (string, error) {
		if tp == nil {
			return "", nil
		}
		s, err := tp.RenderString(rec)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		return s, nil
	}
	num := func(key string, tp *Template) (int, error) {
		if tp == nil {
			return 0, nil
		}
		v, err := tp.Render(rec)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		n, err := asInt(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return n, nil
	}
	if d.Query, err = str("query", t.query); err != nil {
		return d, err
	}
	if d.Target, err = str("target", t.target); err != nil {
		return d, err
	}
	if t.contexts != nil {
		v, err := t.contexts.Render(rec)
		if err == nil {
			d.Contexts, err = asList(v)
		}
		if err != nil {
			return d, fmt.Errorf("contexts: %w", err)
		}
	}
	for _, c := range t.choices {
		v, err := c.Render(rec)
		if err != nil {
			return d, fmt.Errorf("choices: %w", err)
		}
		l, err := asList(v)
		if err != nil {
			return d, fmt.Errorf("choices: %w", err)
		}
		d.Choices = append(d.Choices, l...)
	}
	if d.Gold, err = num("gold", t.gold); err != nil {
		return d, err
	}
	if d.TrueChoices, err = num("true_choices", t.trueChoices); err != nil {
		return d, err
	}
	if t.Output == MultipleChoice {
		n := len(d.Choices)
		if d.Contexts != nil {
			n = len(d.Contexts)
		}
		if n == 0 {
			return d, fmt.Errorf("choices: none")
		}
		if d.Gold < 0 || d.Gold >= n {
			return d, fmt.Errorf("gold: %d is not an index of the %d choices", d.Gold, n)
		}
		if d.TrueChoices > n {
			return d, fmt.Errorf("true_choices: %d of only %d choices", d.TrueChoices, n)
		}
	}
	return d, nil
}

// readRecords reads JSONL (one object a line), CSV (a header row; field names lowercased with
// spaces as _) or a .txt file (one record {"text": whole file}).
func readRecords(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl":
		var out []record
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for line := 1; sc.Scan(); line++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return nil, fmt.Errorf("%s:%d: not a JSON object: %v", path, line, err)
			}
			out = append(out, record{fields: m, line: line})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return out, nil
	case ".csv":
		r := csv.NewReader(f)
		head, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the header row: %w", path, err)
		}
		for i, h := range head {
			head[i] = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))), " ", "_")
		}
		var out []record
		for {
			row, err := r.Read()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			line, _ := r.FieldPos(0)
			m := map[string]any{}
			for i, h := range head {
				m[h] = row[i]
			}
			out = append(out, record{fields: m, line: line})
		}
	case ".txt":
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return []record{{fields: map[string]any{"text": string(b)}, line: 1}}, nil
	}
	return nil, fmt.Errorf("%s: unknown record format; use .jsonl, .csv or .txt", path)
}

// TaskNames lists the tasks in a folder (the names of its .yaml files), sorted.
func TaskNames(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no task files (*.yaml) in %s", dir)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	sort.Strings(out)
	return out, nil
}
