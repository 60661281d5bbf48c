package main

import (
	"context"
	"fmt"
	"io"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/tokenizer"
)

// session is a conversation: the template renders the system prompt and the history, and the
// oldest exchanges are dropped when the history and a reply would not fit the context.
type session struct {
	e       *generate.Engine
	tok     tokenizer.Tokenizer
	tmpl    *chattemplate.Template
	system  string
	params  generate.Params // MaxTokens is the reply budget
	history []map[string]any
}

// reply answers user, writing the reply to w as it is produced, and returns it.
func (s *session) reply(ctx context.Context, user string, w io.Writer) (string, error) {
	msgs := append(append([]map[string]any{}, s.history...), map[string]any{"role": "user", "content": user})
	T := s.e.Config().SeqLen
	p := s.params
	var ids []int
	var stop string
	for {
		all := msgs
		if s.system != "" {
			all = append([]map[string]any{{"role": "system", "content": s.system}}, msgs...)
		}
		var err error
		if ids, stop, err = s.tmpl.ChatPrompt(all, s.tok); err != nil {
			return "", err
		}
		if len(ids)+p.MaxTokens <= T {
			break
		}
		if len(msgs) > 1 { // drop the oldest exchange (a user turn and its reply)
			msgs = msgs[2:]
			continue
		}
		if p.MaxTokens = T - len(ids); p.MaxTokens < 1 {
			return "", fmt.Errorf("the message takes %d tokens with the template; the context holds %d (model.seq_len)", len(ids), T)
		}
	}
	if stop != "" {
		p.Stop = append(append([]string{}, p.Stop...), stop)
	}
	var werr error
	res, err := s.e.Run(ctx, []*generate.Request{{Prompt: ids, Params: p, OnToken: func(t generate.Token) bool {
		_, werr = io.WriteString(w, t.Text)
		return werr == nil
	}}})
	if err != nil {
		return "", err
	}
	if werr != nil {
		return "", werr
	}
	s.history = msgs[:len(msgs)-1]
	if text := res[0].Text; len(text) > 0 && text != " " {
		s.history = append(s.history, msgs[len(msgs)-1], map[string]any{"role": "assistant", "content": text})
	}
	return res[0].Text, nil
}
