// Package chattemplate renders chat messages ({role, content} lists) into text and token ids
// with a chat template (chatml, llama2, zephyr, alpaca, plain, or one read from a file). Training
// (package finetune: loss masks over the segments) and generation (cmd/chat, package serve: the
// prompt a model answers and the text its turn ends at) share it, so a model is prompted exactly
// as it was fine-tuned, and the generating side links no training code.
package chattemplate

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/golem-ml/golem/internal/jsonrec"
	"github.com/golem-ml/golem/tokenizer"
)

// Segment is a piece of rendered text and whether its tokens are trained by default
// (completions and assistant turns are; prompts, user turns and template markup before the
// answer are not). Markup pieces come from the chat template and may hold special tokens.
type Segment struct {
	Text   string
	Train  bool
	Markup bool
}

// specialEncoder is implemented by tokenizers that know special tokens (BPE, SentencePiece).
type specialEncoder interface {
	EncodeWithSpecial(text string, allowed ...string) []int
}

// Encode encodes the segment's text; markup is encoded with the tokenizer's special tokens
// where it has them (so <|im_start|> is one id), the rest as plain text.
func (s Segment) Encode(tok tokenizer.Tokenizer) []int {
	if se, ok := tok.(specialEncoder); ok && s.Markup {
		return se.EncodeWithSpecial(s.Text)
	}
	return tok.Encode(s.Text)
}

// Template renders chat messages into text. System and User hold {content}; an assistant turn
// is AssistantPrefix (not trained) + content + AssistantSuffix (trained, so the model learns to
// end its turn). BOS starts every conversation. The markup may name the tokenizer's special
// tokens (e.g. <|im_start|>): they are encoded as special ids where the tokenizer has them.
type Template struct {
	Name            string `yaml:"name"`
	BOS             string `yaml:"bos"`
	System          string `yaml:"system"`
	User            string `yaml:"user"`
	AssistantPrefix string `yaml:"assistant_prefix"`
	AssistantSuffix string `yaml:"assistant_suffix"`
	DefaultSystem   string `yaml:"default_system"` // used when a conversation has no system message
}

// Templates are the built-in chat templates, by name.
var Templates = map[string]Template{
	"chatml": {Name: "chatml", System: "<|im_start|>system\n{content}<|im_end|>\n", User: "<|im_start|>user\n{content}<|im_end|>\n",
		AssistantPrefix: "<|im_start|>assistant\n", AssistantSuffix: "<|im_end|>\n"},
	"llama2": {Name: "llama2", BOS: "<s>", System: "<<SYS>>\n{content}\n<</SYS>>\n\n", User: "[INST] {content} [/INST]",
		AssistantPrefix: " ", AssistantSuffix: " </s>"},
	"zephyr": {Name: "zephyr", System: "<|system|>\n{content}</s>\n", User: "<|user|>\n{content}</s>\n",
		AssistantPrefix: "<|assistant|>\n", AssistantSuffix: "</s>\n"},
	"alpaca": {Name: "alpaca", System: "{content}\n\n", User: "### Instruction:\n{content}\n\n",
		AssistantPrefix: "### Response:\n", AssistantSuffix: "\n\n"},
	"plain": {Name: "plain", System: "{content}\n", User: "User: {content}\n", AssistantPrefix: "Assistant: ", AssistantSuffix: "\n"},
}

// Load returns a built-in template by name ("" = chatml) or reads one from a YAML or
// JSON file with the keys of Template.
func Load(nameOrPath string) (*Template, error) {
	if nameOrPath == "" {
		nameOrPath = "chatml"
	}
	if t, ok := Templates[nameOrPath]; ok {
		return &t, nil
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		var names []string
		for n := range Templates {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("chat template %q is neither a built-in template (%s) nor a readable file: %v", nameOrPath, strings.Join(names, ", "), err)
	}
	var t Template
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("chat template %s: %v (keys: name, bos, system, user, assistant_prefix, assistant_suffix, default_system)", nameOrPath, err)
	}
	if !strings.Contains(t.User, "{content}") {
		return nil, fmt.Errorf("chat template %s: user %q has no {content}", nameOrPath, t.User)
	}
	if t.System != "" && !strings.Contains(t.System, "{content}") {
		return nil, fmt.Errorf("chat template %s: system %q has no {content}", nameOrPath, t.System)
	}
	if t.Name == "" {
		t.Name = nameOrPath
	}
	return &t, nil
}

// Render renders a "messages" value: a list of {"role": system|user|assistant, "content": ...}.
// Problems name the message: unknown roles, missing or empty content, no assistant turn.
func (t *Template) Render(messages any) ([]Segment, error) {
	list, ok := messages.([]any)
	if !ok {
		if messages == nil {
			return nil, fmt.Errorf("missing field \"messages\"")
		}
		return nil, fmt.Errorf("field \"messages\" is a %s, want a list of {role, content}", jsonrec.Type(messages))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("empty \"messages\"")
	}
	var segs []Segment
	markup := func(s string, train bool) {
		if s != "" {
			segs = append(segs, Segment{Text: s, Train: train, Markup: true})
		}
	}
	wrap := func(format, content string) { // format has one {content}
		before, after, _ := strings.Cut(format, "{content}")
		markup(before, false)
		segs = append(segs, Segment{Text: content})
		markup(after, false)
	}
	markup(t.BOS, false)
	assistants := 0
	for i, m := range list {
		obj, ok := m.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("messages[%d] is a %s, want {role, content}", i, jsonrec.Type(m))
		}
		role, err := jsonrec.String(obj, "role", true)
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		content, err := jsonrec.String(obj, "content", true)
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		if i == 0 && role != "system" && t.DefaultSystem != "" && t.System != "" {
			wrap(t.System, t.DefaultSystem)
		}
		switch role {
		case "system":
			if i != 0 {
				return nil, fmt.Errorf("messages[%d]: a system message must come first", i)
			}
			if t.System == "" {
				return nil, fmt.Errorf("messages[%d]: template %s has no system role", i, t.Name)
			}
			wrap(t.System, content)
		case "user":
			if strings.TrimSpace(content) == "" {
				return nil, fmt.Errorf("messages[%d]: empty user content", i)
			}
			wrap(t.User, content)
		case "assistant":
			if strings.TrimSpace(content) == "" {
				return nil, fmt.Errorf("messages[%d]: empty assistant content: nothing to train on", i)
			}
			markup(t.AssistantPrefix, false)
			segs = append(segs, Segment{Text: content, Train: true})
			markup(t.AssistantSuffix, true)
			assistants++
		default:
			return nil, fmt.Errorf("messages[%d]: unknown role %q; want system, user or assistant", i, role)
		}
	}
	if assistants == 0 {
		return nil, fmt.Errorf("no assistant message: nothing to train on")
	}
	return segs, nil
}

// promptSegments renders messages followed by a placeholder assistant reply and returns the
// segments before that reply: the conversation and the assistant prefix a model's answer follows.
func (t *Template) promptSegments(messages []map[string]any) ([]Segment, error) {
	list := make([]any, len(messages)+1)
	for i, m := range messages {
		list[i] = m
	}
	list[len(messages)] = map[string]any{"role": "assistant", "content": "x"}
	segs, err := t.Render(list)
	if err != nil {
		return nil, err
	}
	cut := len(segs)
	for cut > 0 && !(segs[cut-1].Train && !segs[cut-1].Markup) { // the placeholder reply
		cut--
	}
	return segs[:cut-1], nil
}

// GenerationPrompt renders messages (ending with a user turn) plus the assistant prefix, the
// text a model continues to answer.
func (t *Template) GenerationPrompt(messages []map[string]any) (string, error) {
	segs, err := t.promptSegments(messages)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.Text)
	}
	return b.String(), nil
}

// ChatPrompt renders messages plus the assistant prefix into the ids a model continues to
// answer, tokenized as training tokenizes them (markup as special tokens where the tokenizer has
// them), and returns the end-of-turn text (the assistant suffix, trimmed) a reply stops at.
func (t *Template) ChatPrompt(messages []map[string]any, tok tokenizer.Tokenizer) (ids []int, stop string, err error) {
	segs, err := t.promptSegments(messages)
	if err != nil {
		return nil, "", err
	}
	for _, s := range segs {
		ids = append(ids, s.Encode(tok)...)
	}
	return ids, strings.TrimSpace(t.AssistantSuffix), nil
}
