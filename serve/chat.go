package serve

import (
	"fmt"
	"net/http"
	"time"

	"github.com/golem-ml/golem/generate"
)

type chatRequest struct {
	sampling
	Messages            []map[string]any `json:"messages"`
	MaxCompletionTokens *int             `json:"max_completion_tokens"`
	LogProbs            bool             `json:"logprobs"`
	TopLogProbs         int              `json:"top_logprobs"`
}

// chatLogprob is one token of a chat choice's logprobs.content.
type chatLogprob struct {
	Token       string        `json:"token"`
	LogProb     float64       `json:"logprob"`
	Bytes       []int         `json:"bytes"`
	TopLogprobs []chatLogprob `json:"top_logprobs,omitempty"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var q chatRequest
	if !decodeBody(w, r, &q) {
		return
	}
	if q.MaxCompletionTokens != nil {
		q.MaxTokens = q.MaxCompletionTokens
	}
	ids, stop, err := s.opts.Template.ChatPrompt(q.Messages, s.tok)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "messages: "+err.Error())
		return
	}
	p, n, err := s.params(&q.sampling, min(s.opts.MaxTokens, max(0, s.e.Config().SeqLen-len(ids))))
	if err == nil && (q.TopLogProbs < 0 || q.TopLogProbs > 20) {
		err = fmt.Errorf("top_logprobs: %d must be between 0 and 20", q.TopLogProbs)
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	if stop != "" {
		p.Stop = append(p.Stop, stop)
	}
	p.LogProbs, p.TopLogProbs = q.LogProbs, q.TopLogProbs
	var stream chan streamed
	if q.Stream {
		stream = make(chan streamed, n*(p.MaxTokens+2))
	}
	j := s.enqueue(w, r, [][]int{ids}, p, n, stream)
	if j == nil {
		return
	}
	id, created := s.newID("chatcmpl"), time.Now().Unix()
	if q.Stream {
		ev := startSSE(w)
		chunk := func(i int, delta map[string]any, lp any, finish any) map[string]any {
			return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": s.opts.ModelName,
				"choices": []any{map[string]any{"index": i, "delta": delta, "logprobs": lp, "finish_reason": finish}}}
		}
		for i := range j.rows {
			ev.send(chunk(i, map[string]any{"role": "assistant", "content": ""}, nil, nil))
		}
		s.streamSSE(ev, j, stream, func(e streamed) any {
			var lp any
			if p.LogProbs && e.tok.ID >= 0 {
				lp = map[string]any{"content": s.chatLogprobs([]int{e.tok.ID}, []float64{e.tok.LogProb}, [][]generate.TokenLogProb{e.tok.Top})}
			}
			if e.tok.Text == "" && lp == nil {
				return nil
			}
			return chunk(e.choice, map[string]any{"content": trimText(e.tok.Text)}, lp, nil)
		}, func(i int, row *generate.Row) any { return chunk(i, map[string]any{}, nil, finish(row)) })
		return
	}
	if !s.wait(w, j) {
		return
	}
	var choices []any
	used := 0
	for i, row := range j.rows {
		var lp any
		if p.LogProbs {
			lp = map[string]any{"content": s.chatLogprobs(row.IDs, row.LogProbs, row.Top)}
		}
		choices = append(choices, map[string]any{"index": i, "message": map[string]any{"role": "assistant", "content": trimText(row.Text)},
			"logprobs": lp, "finish_reason": finish(row)})
		used += len(row.IDs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "chat.completion", "created": created, "model": s.opts.ModelName,
		"choices": choices, "usage": map[string]int{"prompt_tokens": len(ids), "completion_tokens": used, "total_tokens": len(ids) + used}})
}

func (s *Server) chatLogprobs(ids []int, lps []float64, tops [][]generate.TokenLogProb) []chatLogprob {
	out := []chatLogprob{}
	for i, id := range ids {
		e := s.tokenLogprob(id, lps[i])
		if i < len(tops) {
			for _, t := range tops[i] {
				e.TopLogprobs = append(e.TopLogprobs, s.tokenLogprob(t.ID, t.LogProb))
			}
		}
		out = append(out, e)
	}
	return out
}

func (s *Server) tokenLogprob(id int, lp float64) chatLogprob {
	text := s.tok.Decode([]int{id})
	b := make([]int, len(text))
	for i := range len(text) {
		b[i] = int(text[i])
	}
	return chatLogprob{Token: trimText(text), LogProb: lp, Bytes: b}
}
