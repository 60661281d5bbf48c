// Package serve is an OpenAI-compatible HTTP server over golem's KV-cache generation engine:
// /v1/completions, /v1/chat/completions (both with server-sent-event streaming), /v1/models
// and /health. Concurrent requests share decode steps (continuous batching: a request joins
// the running batch between two steps); a bounded queue answers 429 when full and 503 while
// the server drains.
package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/tokenizer"
)

// Options configure a server. Zero values take the defaults in brackets.
type Options struct {
	ModelName    string       // the id /v1/models lists and responses carry ["golem"]
	APIKey       string       // when set, /v1/* needs "Authorization: Bearer KEY"
	MaxBatch     int          // rows decoded together [8]
	MaxQueue     int          // requests waiting for the batch; past it, 429 [64]
	MaxBodyBytes int64        // request body limit; past it, 413 [1 MiB]
	MaxTokens    int          // largest max_tokens a request may ask [the context]
	MaxN         int          // largest n [8]
	Template     ChatTemplate // renders /v1/chat/completions messages; nil: that route answers 404
}

// ChatTemplate renders a conversation (ending with a user turn) into the prompt ids a model
// answers, and the end-of-turn text a reply stops at. chattemplate.Template is one (cmd/serve
// passes --template, chatml by default).
type ChatTemplate interface {
	ChatPrompt(messages []map[string]any, tok tokenizer.Tokenizer) (ids []int, stop string, err error)
}

// Server answers the OpenAI API. Create it with New; Handler serves it; Close stops it.
type Server struct {
	e        *generate.Engine
	tok      tokenizer.Tokenizer
	opts     Options
	queue    chan *job
	stop     chan struct{}
	stopped  chan struct{}
	draining atomic.Bool
	ids      atomic.Int64
	mux      *http.ServeMux
	closing  sync.Once
}

// job is one request's rows (n choices x prompts) on their way through the batch.
type job struct {
	ctx  context.Context
	rows []*generate.Row
	done chan struct{}
	err  error
}

var (
	errQueueFull = errors.New("server busy: the request queue is full; retry later")
	errDraining  = errors.New("server shutting down; not accepting new requests")
)

// New starts the scheduler over e; tok must be the model's tokenizer.
func New(e *generate.Engine, tok tokenizer.Tokenizer, opts Options) *Server {
	if opts.ModelName == "" {
		opts.ModelName = "golem"
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 8
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = 64
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = e.Config().SeqLen
	}
	if opts.MaxN <= 0 {
		opts.MaxN = 8
	}
	s := &Server{e: e, tok: tok, opts: opts, queue: make(chan *job, opts.MaxQueue), stop: make(chan struct{}), stopped: make(chan struct{})}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /v1/models", s.auth(s.models))
	s.mux.HandleFunc("POST /v1/completions", s.auth(s.limit(s.completions)))
	if opts.Template != nil {
		s.mux.HandleFunc("POST /v1/chat/completions", s.auth(s.limit(s.chat)))
	}
	go s.loop()
	return s
}

// Handler is the server's routes.
func (s *Server) Handler() http.Handler { return s.mux }

// Drain refuses new requests (503) from now on; requests already queued or running finish.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the scheduler once the queue is empty; call it after http.Server.Shutdown.
func (s *Server) Close() {
	s.Drain()
	s.closing.Do(func() { close(s.stop) })
	<-s.stopped
}

// loop owns the batch: it admits queued jobs between decode steps, up to MaxBatch rows.
func (s *Server) loop() {
	defer close(s.stopped)
	b := s.e.NewBatch()
	var running []*job
	for {
		if b.Active() == 0 {
			select {
			case j := <-s.queue:
				running = s.admit(b, j, running)
			case <-s.stop:
				if len(s.queue) == 0 {
					return
				}
				continue
			}
		}
		for more := true; more && b.Active() < s.opts.MaxBatch; {
			select {
			case j := <-s.queue:
				running = s.admit(b, j, running)
			default:
				more = false
			}
		}
		if b.Active() > 0 {
			if err := b.Step(); err != nil {
				for _, j := range running {
					j.err = err
					close(j.done)
				}
				running, b = nil, s.e.NewBatch()
				continue
			}
		}
		running = finished(running)
	}
}

func (s *Server) admit(b *generate.Batch, j *job, running []*job) []*job {
	if err := j.ctx.Err(); err != nil {
		j.err = err
		close(j.done)
		return running
	}
	if err := b.Admit(j.rows); err != nil {
		j.err = err
		close(j.done)
		return running
	}
	return finished(append(running, j))
}

// finished closes the jobs whose rows are all done and returns the others.
func finished(running []*job) []*job {
	out := running[:0]
	for _, j := range running {
		done := true
		for _, r := range j.rows {
			done = done && r.Done()
		}
		if done {
			close(j.done)
		} else {
			out = append(out, j)
		}
	}
	return out
}

// submit queues a job, or refuses at once when the queue is full or the server drains.
func (s *Server) submit(j *job) error {
	if s.draining.Load() {
		return errDraining
	}
	select {
	case s.queue <- j:
		return nil
	default:
		return errQueueFull
	}
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "queued": len(s.queue)})
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{
		"id": s.opts.ModelName, "object": "model", "created": 0, "owned_by": "golem", "max_model_len": s.e.Config().SeqLen}}})
}

// auth checks the bearer key when one is configured.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.APIKey == "" {
		return h
	}
	want := []byte("Bearer " + s.opts.APIKey)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			apiError(w, http.StatusUnauthorized, "authentication_error", "missing or wrong API key: send \"Authorization: Bearer KEY\"")
			return
		}
		h(w, r)
	}
}

// limit caps the request body.
func (s *Server) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		h(w, r)
	}
}

// decodeBody reads a JSON request; the error names the field and type when it can.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", fmt.Sprintf("request body over %d bytes", tooBig.Limit))
	case errors.As(err, &typeErr):
		apiError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("%s: got a JSON %s, want %s", typeErr.Field, typeErr.Value, typeErr.Type))
	default:
		apiError(w, http.StatusBadRequest, "invalid_request_error", "request body is not valid JSON: "+err.Error())
	}
	return false
}

// refuse answers a submit error: 429 when the queue is full, 503 while draining.
func refuse(w http.ResponseWriter, err error) {
	code := http.StatusTooManyRequests
	if errors.Is(err, errDraining) {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Retry-After", "1")
	apiError(w, code, "server_error", err.Error())
}

func apiError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": kind, "param": nil, "code": code}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, s.ids.Add(1))
}

// sse writes server-sent events.
type sse struct {
	w http.ResponseWriter
	f http.Flusher
}

func startSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sse{w: w, f: f}
}

func (e *sse) send(v any) error {
	var b []byte
	if s, ok := v.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(v)
	}
	if _, err := fmt.Fprintf(e.w, "data: %s\n\n", b); err != nil {
		return err
	}
	if e.f != nil {
		e.f.Flush()
	}
	return nil
}

// stopList reads OpenAI's stop: a string or a list of strings.
func stopList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("stop: want a string or a list of strings")
	}
	if len(many) > 4 {
		return nil, fmt.Errorf("stop: at most 4 stop strings, got %d", len(many))
	}
	return many, nil
}

func trimText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
