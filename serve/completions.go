package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/golem-ml/golem/generate"
)

// sampling holds the fields /v1/completions and /v1/chat/completions share (OpenAI's names,
// plus vLLM's top_k, min_p, repetition_penalty and stop_token_ids).
type sampling struct {
	Model             string          `json:"model"`
	MaxTokens         *int            `json:"max_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	TopK              int             `json:"top_k"`
	MinP              float64         `json:"min_p"`
	N                 *int            `json:"n"`
	Stream            bool            `json:"stream"`
	Stop              json.RawMessage `json:"stop"`
	StopTokenIDs      []int           `json:"stop_token_ids"`
	PresencePenalty   float64         `json:"presence_penalty"`
	FrequencyPenalty  float64         `json:"frequency_penalty"`
	RepetitionPenalty float64         `json:"repetition_penalty"`
	Seed              *int64          `json:"seed"`
}

// params turns the request into engine params; defaultMax is the max_tokens when absent.
func (s *Server) params(q *sampling, defaultMax int) (generate.Params, int, error) {
	p := generate.Params{MaxTokens: defaultMax, Temperature: 1, TopK: q.TopK, MinP: q.MinP,
		PresencePenalty: q.PresencePenalty, FrequencyPenalty: q.FrequencyPenalty, RepetitionPenalty: q.RepetitionPenalty,
		StopIDs: append(q.StopTokenIDs, generate.StopIDs(s.tok)...)}
	if q.MaxTokens != nil {
		p.MaxTokens = *q.MaxTokens
	}
	if p.MaxTokens > s.opts.MaxTokens {
		return p, 0, fmt.Errorf("max_tokens: %d is over this server's limit of %d", p.MaxTokens, s.opts.MaxTokens)
	}
	if q.Temperature != nil {
		p.Temperature = *q.Temperature
	}
	if q.TopP != nil {
		p.TopP = *q.TopP
	}
	if q.Seed != nil {
		p.Seed = uint64(*q.Seed)
	} else {
		p.Seed = uint64(time.Now().UnixNano())
	}
	var err error
	if p.Stop, err = stopList(q.Stop); err != nil {
		return p, 0, err
	}
	n := 1
	if q.N != nil {
		n = *q.N
	}
	if n < 1 || n > s.opts.MaxN {
		return p, 0, fmt.Errorf("n: %d must be between 1 and %d", n, s.opts.MaxN)
	}
	if q.Model != "" && q.Model != s.opts.ModelName {
		return p, 0, fmt.Errorf("model: %q is not served here; this server serves %q", q.Model, s.opts.ModelName)
	}
	return p, n, p.Validate()
}

type completionRequest struct {
	sampling
	Prompt   json.RawMessage `json:"prompt"`
	Echo     bool            `json:"echo"`
	LogProbs *int            `json:"logprobs"`
}

// prompts reads OpenAI's prompt: a string, a list of strings, a list of ids, or a list of lists.
func (s *Server) prompts(raw json.RawMessage) (ids [][]int, texts []string, err error) {
	var one string
	var many []string
	var tokens []int
	var batch [][]int
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil, fmt.Errorf("prompt: missing; give a string, a list of strings, or token ids")
	case json.Unmarshal(raw, &one) == nil:
		many = []string{one}
	case json.Unmarshal(raw, &many) == nil:
	case json.Unmarshal(raw, &tokens) == nil:
		batch = [][]int{tokens}
	case json.Unmarshal(raw, &batch) == nil:
	default:
		return nil, nil, fmt.Errorf("prompt: want a string, a list of strings, a list of token ids or a list of such lists")
	}
	for _, t := range many {
		ids = append(ids, generate.PromptIDs(s.tok, t))
		texts = append(texts, t)
	}
	for _, b := range batch {
		ids = append(ids, b)
		texts = append(texts, s.tok.Decode(b))
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("prompt: empty list")
	}
	return ids, texts, nil
}

type choiceLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var q completionRequest
	if !decodeBody(w, r, &q) {
		return
	}
	p, n, err := s.params(&q.sampling, 16)
	var prompts [][]int
	var texts []string
	if err == nil {
		prompts, texts, err = s.prompts(q.Prompt)
	}
	nTop := 0
	if err == nil && q.LogProbs != nil {
		if nTop = *q.LogProbs; nTop < 0 || nTop > 20 {
			err = fmt.Errorf("logprobs: %d must be between 0 and 20", nTop)
		}
		p.LogProbs, p.TopLogProbs = true, nTop
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	// Echoed prompts with log-probs are scored before anything is queued (lm-eval's use).
	type echoed struct {
		lps []float64
		top [][]generate.TokenLogProb
	}
	echoes := make([]echoed, len(prompts))
	if q.Echo && q.LogProbs != nil {
		for i, pr := range prompts {
			lps, top, err := s.e.Score(pr, nTop)
			if err != nil {
				apiError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("prompt %d: %v", i, err))
				return
			}
			echoes[i] = echoed{lps, top}
		}
	}
	var stream chan streamed
	if q.Stream {
		stream = make(chan streamed, len(prompts)*n*(p.MaxTokens+2))
	}
	j := s.enqueue(w, r, prompts, p, n, stream)
	if j == nil {
		return
	}
	id, created := s.newID("cmpl"), time.Now().Unix()
	choice := func(i int, text string, lp *choiceLogprobs, finish any) map[string]any {
		return map[string]any{"index": i, "text": text, "logprobs": lp, "finish_reason": finish}
	}
	chunk := func(c any) map[string]any {
		return map[string]any{"id": id, "object": "text_completion", "created": created, "model": s.opts.ModelName, "choices": []any{c}}
	}
	if q.Stream {
		s.streamSSE(startSSE(w), j, stream, func(e streamed) any {
			var lp *choiceLogprobs
			if p.LogProbs && e.tok.ID >= 0 {
				lp = s.logprobs([]int{e.tok.ID}, []float64{e.tok.LogProb}, [][]generate.TokenLogProb{e.tok.Top}, false, 0)
			}
			return chunk(choice(e.choice, trimText(e.tok.Text), lp, nil))
		}, func(i int, row *generate.Row) any { return chunk(choice(i, "", nil, finish(row))) })
		return
	}
	if !s.wait(w, j) {
		return
	}
	var choices []any
	used := 0
	for i, row := range j.rows {
		k := i / n
		text := row.Text
		var lp *choiceLogprobs
		ids, lps, tops := row.IDs, row.LogProbs, row.Top
		if q.Echo {
			text = texts[k] + text
			ids = append(append([]int{}, prompts[k]...), ids...)
			lps = append(append([]float64{}, echoes[k].lps...), lps...)
			tops = append(append([][]generate.TokenLogProb{}, echoes[k].top...), tops...)
		}
		if p.LogProbs {
			first := 0
			if q.Echo {
				first = 1 // the first prompt token has no log-probability
			}
			lp = s.logprobs(ids, lps, tops, q.Echo, first)
		}
		choices = append(choices, choice(i, trimText(text), lp, finish(row)))
		used += len(row.IDs)
	}
	promptTokens := 0
	for _, pr := range prompts {
		promptTokens += len(pr)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "text_completion", "created": created, "model": s.opts.ModelName,
		"choices": choices, "usage": map[string]int{"prompt_tokens": promptTokens, "completion_tokens": used, "total_tokens": promptTokens + used}})
}

// logprobs builds OpenAI's legacy logprobs object; ids before first get null log-probs.
func (s *Server) logprobs(ids []int, lps []float64, tops [][]generate.TokenLogProb, _ bool, first int) *choiceLogprobs {
	out := &choiceLogprobs{Tokens: []string{}, TokenLogprobs: []*float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	offset := 0
	for i, id := range ids {
		piece := s.tok.Decode([]int{id})
		out.Tokens = append(out.Tokens, piece)
		out.TextOffset = append(out.TextOffset, offset)
		offset += len(piece)
		if i < first || i >= len(lps) {
			out.TokenLogprobs = append(out.TokenLogprobs, nil)
			out.TopLogprobs = append(out.TopLogprobs, nil)
			continue
		}
		v := lps[i]
		out.TokenLogprobs = append(out.TokenLogprobs, &v)
		var top map[string]float64
		if i < len(tops) && tops[i] != nil {
			top = map[string]float64{}
			for _, t := range tops[i] {
				top[s.tok.Decode([]int{t.ID})] = t.LogProb
			}
		}
		out.TopLogprobs = append(out.TopLogprobs, top)
	}
	return out
}

// streamed is one token of one choice, for streaming responses.
type streamed struct {
	choice int
	tok    generate.Token
}

// enqueue makes a job of n choices per prompt and submits it; when either fails it answers
// the client (400 for a bad request, 429 or 503 for a full or draining queue) and returns nil.
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, prompts [][]int, p generate.Params, n int, stream chan streamed) *job {
	j, err := s.rows(r, prompts, p, n, stream)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return nil
	}
	if err := s.submit(j); err != nil {
		refuse(w, err)
		return nil
	}
	return j
}

// wait waits for a non-streaming job; when it failed it answers 500 and returns false.
func (s *Server) wait(w http.ResponseWriter, j *job) bool {
	<-j.done
	if j.err != nil {
		apiError(w, http.StatusInternalServerError, "server_error", j.err.Error())
		return false
	}
	return true
}

// streamSSE ends a streaming response: the chunk of each token (nil: none), then an error
// event if the job failed, else the final chunk of each choice, then [DONE].
func (s *Server) streamSSE(ev *sse, j *job, stream chan streamed, token func(streamed) any, final func(i int, row *generate.Row) any) {
	for e := range s.events(j, stream) {
		if c := token(e); c != nil {
			ev.send(c)
		}
	}
	if j.err != nil {
		ev.send(map[string]any{"error": map[string]any{"message": j.err.Error(), "type": "server_error"}})
	} else {
		for i, row := range j.rows {
			ev.send(final(i, row))
		}
	}
	ev.send("[DONE]")
}

// rows makes a job of n choices per prompt; with stream, each token is also sent there.
func (s *Server) rows(r *http.Request, prompts [][]int, p generate.Params, n int, stream chan streamed) (*job, error) {
	ctx := r.Context()
	j := &job{ctx: ctx, done: make(chan struct{})}
	for k, pr := range prompts {
		for c := 0; c < n; c++ {
			i := k*n + c
			req := &generate.Request{Prompt: pr, Params: p, Stream: uint64(c), OnToken: func(t generate.Token) bool {
				if stream != nil {
					stream <- streamed{choice: i, tok: t} // sized for every token: never blocks
				}
				return ctx.Err() == nil // a client that went away frees its slot
			}}
			row, err := s.e.NewRow(req)
			if err != nil {
				if len(prompts) > 1 {
					return nil, fmt.Errorf("prompt %d: %w", k, err)
				}
				return nil, err
			}
			j.rows = append(j.rows, row)
		}
	}
	return j, nil
}

// events yields the streamed tokens until the job is done.
func (s *Server) events(j *job, stream chan streamed) <-chan streamed {
	out := make(chan streamed)
	go func() {
		defer close(out)
		for {
			select {
			case e := <-stream:
				out <- e
			case <-j.done:
				for {
					select {
					case e := <-stream:
						out <- e
					default:
						return
					}
				}
			}
		}
	}()
	return out
}

func finish(r *generate.Row) string {
	if r.Finish == "cancelled" {
		return "abort"
	}
	return r.Finish
}
