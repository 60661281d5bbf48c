package chattemplate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/tokenizer"
)

// The prompt a model answers: the conversation and the assistant prefix, with the template's
// markup encoded as special ids (llama2's <s> is one id, not the letters "<s>"), and the
// end-of-turn text a reply stops at.
func TestChatPrompt(t *testing.T) {
	msgs := []map[string]any{{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}}
	chatml, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := chatml.GenerationPrompt(msgs)
	if want := "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"; err != nil || p != want {
		t.Errorf("chatml prompt %q (%v), want %q", p, err, want)
	}

	// GPT-2's vocabulary (see testdata/SOURCES.md) has one special token, <|endoftext|> (50256).
	tok, err := tokenizer.LoadGPT2(filepath.Join("..", "testdata", "tokenizer", "gpt2"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := Templates["plain"]
	tmpl.BOS = "<|endoftext|>"
	ids, stop, err := tmpl.ChatPrompt(msgs, tok)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := tmpl.GenerationPrompt(msgs)
	if want := "<|endoftext|>Be terse.\nUser: hi\nAssistant: "; text != want {
		t.Errorf("plain prompt %q, want %q", text, want)
	}
	if len(ids) < 2 || ids[0] != 50256 || tok.Decode(ids[1:]) != strings.TrimPrefix(text, "<|endoftext|>") || stop != "" {
		t.Errorf("ids %v stop %q; want 50256 (the BOS markup as one id), then the rest of %q, no stop text", ids, stop, text)
	}
	if _, _, err := tmpl.ChatPrompt([]map[string]any{{"role": "bot", "content": "x"}}, tok); err == nil || !strings.Contains(err.Error(), `messages[0]: unknown role "bot"`) {
		t.Errorf("unknown role: %v", err)
	}
}

// A template that cannot be used is an error naming the file and what to change.
func TestLoadErrors(t *testing.T) {
	if _, err := Load("nonesuch"); err == nil || !strings.Contains(err.Error(), "alpaca, chatml, llama2, plain, zephyr") {
		t.Errorf("unknown name: %v", err)
	}
	dir := t.TempDir()
	for body, want := range map[string]string{
		"user: \"{content}\"\nassistent_prefix: x\n": "field assistent_prefix not found",
		"user: \"Q: \"\n": "has no {content}",
	} {
		path := filepath.Join(dir, "t.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	custom, err := Load(filepath.Join("..", "testdata", "sft", "template.yaml"))
	if err != nil || custom.User == "" {
		t.Errorf("template.yaml: %+v %v", custom, err)
	}
}
