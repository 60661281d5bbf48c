package finetune

import (
	"fmt"
	"strings"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/internal/jsonrec"
)

// dataFormat is one fine-tuning data format (data.format). formatTable is the one place each
// format is spelled out: the values data.format accepts, auto-detection, the message for a
// record of no known shape and rendering all read it.
type dataFormat struct {
	name string
	keys string // the keys that identify it, as the message for an unknown shape lists them
	// detect reports whether a record that has these keys is of this format.
	detect func(has func(key string) bool) bool
	// render turns a (field-mapped) record into segments and, for classification, its label.
	render func(rec map[string]any, tmpl *chattemplate.Template) (segs []Segment, label string, err error)
}

// formatTable is in detection order: a record is of the first format whose keys it has.
var formatTable = []dataFormat{
	{name: "chat", keys: "messages",
		detect: func(has func(string) bool) bool { return has("messages") },
		render: func(rec map[string]any, tmpl *chattemplate.Template) ([]Segment, string, error) {
			segs, err := tmpl.Render(rec["messages"])
			return segs, "", err
		}},
	{name: "prompt_completion", keys: "prompt+completion",
		detect: func(has func(string) bool) bool { return has("prompt") || has("completion") },
		render: func(rec map[string]any, _ *chattemplate.Template) ([]Segment, string, error) {
			p, err := jsonrec.String(rec, "prompt", true) // an empty prompt is allowed (unconditional completion)
			if err != nil {
				return nil, "", err
			}
			c, err := nonEmpty(rec, "completion")
			if err != nil {
				return nil, "", fmt.Errorf("%w: nothing to train on", err)
			}
			return promptCompletion(p, c), "", nil
		}},
	{name: "classification", keys: "text+label",
		detect: func(has func(string) bool) bool { return has("text") && has("label") },
		render: func(rec map[string]any, _ *chattemplate.Template) ([]Segment, string, error) {
			t, err := nonEmpty(rec, "text")
			if err != nil {
				return nil, "", err
			}
			l, err := nonEmpty(rec, "label")
			if err != nil {
				return nil, "", err
			}
			return promptCompletion(fmt.Sprintf(labelPrompt, t), l), l, nil
		}},
	{name: "text", keys: "text",
		detect: func(has func(string) bool) bool { return has("text") },
		render: func(rec map[string]any, _ *chattemplate.Template) ([]Segment, string, error) {
			t, err := nonEmpty(rec, "text")
			return []Segment{{Text: t, Train: true}}, "", err
		}},
	{name: "alpaca", keys: "instruction+output",
		detect: func(has func(string) bool) bool { return has("instruction") && has("output") },
		render: func(rec map[string]any, _ *chattemplate.Template) ([]Segment, string, error) {
			in, err := nonEmpty(rec, "instruction")
			if err != nil {
				return nil, "", err
			}
			ctx, err := jsonrec.String(rec, "input", false)
			if err != nil {
				return nil, "", err
			}
			out, err := nonEmpty(rec, "output")
			if err != nil {
				return nil, "", fmt.Errorf("%w: nothing to train on", err)
			}
			if strings.TrimSpace(ctx) == "" {
				return promptCompletion(fmt.Sprintf(alpacaPromptNoInput, in), out), "", nil
			}
			return promptCompletion(fmt.Sprintf(alpacaPrompt, in, ctx), out), "", nil
		}},
	{name: "qa", keys: "question+answer",
		detect: func(has func(string) bool) bool { return has("question") && has("answer") },
		render: func(rec map[string]any, _ *chattemplate.Template) ([]Segment, string, error) {
			q, err := nonEmpty(rec, "question")
			if err != nil {
				return nil, "", err
			}
			a, err := nonEmpty(rec, "answer")
			if err != nil {
				return nil, "", fmt.Errorf("%w: nothing to train on", err)
			}
			return promptCompletion(fmt.Sprintf(qaPrompt, q), a), "", nil
		}},
}

// Prompts of the presets.
const (
	alpacaPrompt        = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:\n"
	alpacaPromptNoInput = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n%s\n\n### Response:\n"
	qaPrompt            = "Question: %s\nAnswer: "
	labelPrompt         = "%s\nLabel: "
)

// formatNames are the values of data.format: auto, then the table's.
func formatNames() []string {
	names := []string{"auto"}
	for _, f := range formatTable {
		names = append(names, f.name)
	}
	return names
}

// formatKeys lists the shapes detection knows, for the message about a record of none of them.
func formatKeys() string {
	var ks []string
	for _, f := range formatTable {
		ks = append(ks, f.keys)
	}
	return strings.Join(ks[:len(ks)-1], ", ") + " or " + ks[len(ks)-1]
}

// formatNamed finds a format by name; "auto" is none.
func formatNamed(name string) (*dataFormat, bool) {
	for i := range formatTable {
		if formatTable[i].name == name {
			return &formatTable[i], true
		}
	}
	return nil, false
}

// detect finds a record's format from its keys.
func detect(rec map[string]any) (*dataFormat, bool) {
	has := func(k string) bool { _, ok := rec[k]; return ok }
	for i := range formatTable {
		if formatTable[i].detect(has) {
			return &formatTable[i], true
		}
	}
	return nil, false
}

// example renders a (field-mapped) record of this format.
func (f *dataFormat) example(rec map[string]any, tmpl *chattemplate.Template) (Example, error) {
	segs, label, err := f.render(rec, tmpl)
	if err != nil {
		return Example{Format: f.name}, err
	}
	return Example{Format: f.name, Segments: segs, Label: label}, nil
}

// nonEmpty is a required string field that is not blank.
func nonEmpty(rec map[string]any, key string) (string, error) {
	s, err := jsonrec.String(rec, key, true)
	if err == nil && strings.TrimSpace(s) == "" {
		err = fmt.Errorf("empty %q", key)
	}
	return s, err
}

// promptCompletion is an example whose prompt does not train and whose completion does.
func promptCompletion(prompt, completion string) []Segment {
	return []Segment{{Text: prompt}, {Text: completion, Train: true}}
}
