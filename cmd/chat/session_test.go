package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/internal/testmodel"
)

// A conversation on the aidreams260K import (128-token context): each reply streams exactly
// the text returned, and a long conversation keeps fitting by dropping its oldest exchanges.
func TestSessionStreamsAndKeepsHistoryInContext(t *testing.T) {
	fm, e := testmodel.Aidreams(t)
	tmpl, _ := chattemplate.Load("plain")
	s := &session{e: e, tok: fm.Tok, tmpl: tmpl, system: "You dream.", params: generate.Params{MaxTokens: 30, StopIDs: generate.StopIDs(fm.Tok)}}
	for turn := 0; turn < 6; turn++ {
		var out strings.Builder
		reply, err := s.reply(context.Background(), "Tell me about the dream of vectors and petals", &out)
		if err != nil {
			t.Fatalf("turn %d: %v", turn, err)
		}
		if out.String() != reply || strings.TrimSpace(reply) == "" {
			t.Fatalf("turn %d: streamed %q, returned %q", turn, out.String(), reply)
		}
	}
	if len(s.history) >= 12 {
		t.Errorf("history kept all %d messages; the context (128 tokens) cannot hold them", len(s.history))
	}
	if _, err := s.reply(context.Background(), strings.Repeat("dream ", 200), &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "context holds 128") {
		t.Errorf("an over-long message gave %v, want a context error", err)
	}
}

// The command answers --prompt and exits with --no-interactive; without --prompt that is a
// usage error.
func TestRunOnce(t *testing.T) {
	dir := testmodel.Checkpoint(t)
	var out strings.Builder
	err := run([]string{"--ckpt", dir, "--backend", "go", "--template", "plain", "--prompt", "Tell me a dream", "--no-interactive",
		"--max-tokens", "12", "--temperature", "0"}, &out, io.Discard)
	if err != nil || strings.TrimSpace(out.String()) == "" {
		t.Fatalf("one turn: %v, reply %q", err, out.String())
	}
	err = run([]string{"--ckpt", dir, "--no-interactive"}, io.Discard, io.Discard)
	if !errors.As(err, new(cli.UsageError)) || !strings.Contains(err.Error(), "--no-interactive needs --prompt") {
		t.Errorf("--no-interactive without --prompt: %v, want a usage error", err)
	}
}
