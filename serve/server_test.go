package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/internal/testmodel"
)

func newTestServer(t testing.TB, opts Options) (*Server, *inference.Model, *generate.Engine, *httptest.Server) {
	m, e := testmodel.Aidreams(t)
	if opts.Template == nil {
		opts.Template, _ = chattemplate.Load("chatml") // what cmd/serve passes by default
	}
	s := New(e, m.Tok, opts)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, m, e, hs
}

func post(t testing.TB, url, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: response is not JSON: %v", url, err)
	}
	return resp.StatusCode, out
}

func choiceText(t testing.TB, out map[string]any, i int) string {
	t.Helper()
	ch, ok := out["choices"].([]any)
	if !ok || len(ch) <= i {
		t.Fatalf("no choice %d in %v", i, out)
	}
	c := ch[i].(map[string]any)
	if msg, ok := c["message"].(map[string]any); ok {
		return msg["content"].(string)
	}
	return c["text"].(string)
}

// Greedy completions equal the engine's own output, alone and under concurrent load (batched
// rows do not affect each other).
func TestCompletionsGreedyAndConcurrent(t *testing.T) {
	_, fm, e, hs := newTestServer(t, Options{MaxBatch: 4})
	prompts := []string{"I dream of", "Once upon a time", "The sky is", "a", "Hello, world", "Contrast"}
	want := make([]string, len(prompts))
	for i, p := range prompts {
		res, err := e.Generate(context.Background(), [][]int{generate.PromptIDs(fm.Tok, p)}, generate.Params{MaxTokens: 24, StopIDs: generate.StopIDs(fm.Tok)})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res[0].Text
	}
	var wg sync.WaitGroup
	got := make([]string, len(prompts))
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"prompt": p, "max_tokens": 24, "temperature": 0})
			code, out := post(t, hs.URL+"/v1/completions", string(body))
			if code != 200 {
				t.Errorf("prompt %q: status %d: %v", p, code, out)
				return
			}
			got[i] = choiceText(t, out, 0)
		}()
	}
	wg.Wait()
	for i := range prompts {
		if got[i] != want[i] {
			t.Errorf("prompt %q: served %q, engine alone %q", prompts[i], got[i], want[i])
		}
	}
	if !strings.HasPrefix(want[0], " 0.000000. Dimensions unfold") { // run.c's continuation (testdata/models/aidreams260K/runc_greedy.json)
		t.Errorf("greedy continuation %q is not run.c's", want[0])
	}
}

// echo + logprobs + max_tokens 0 returns the prompt's log-probabilities (lm-evaluation-harness's
// local-completions scoring), equal to finetune eval's scorer on the same ids.
func TestEchoLogprobsMatchScorer(t *testing.T) {
	_, fm, _, hs := newTestServer(t, Options{})
	text := "I dream of 0.000000. Dimensions unfold"
	code, out := post(t, hs.URL+"/v1/completions", `{"prompt": "`+text+`", "max_tokens": 0, "echo": true, "logprobs": 1}`)
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	if got := choiceText(t, out, 0); got != text {
		t.Errorf("echoed %q, want %q", got, text)
	}
	lp := out["choices"].([]any)[0].(map[string]any)["logprobs"].(map[string]any)
	tokenLPs := lp["token_logprobs"].([]any)
	ids := generate.PromptIDs(fm.Tok, text)
	if len(tokenLPs) != len(ids) || tokenLPs[0] != nil {
		t.Fatalf("%d token log-probs (first %v) for %d prompt ids; want one each, the first null", len(tokenLPs), tokenLPs[0], len(ids))
	}
	sc, err := finetune.NewScorer(fm)
	if err != nil {
		t.Fatal(err)
	}
	// The scorer gives the summed log-prob of a continuation: token i's own log-prob is the
	// difference of the sums over ids[1:i+1] and ids[1:i].
	prev := 0.0
	for i := 1; i < len(ids); i++ {
		sum, err := sc.LogProb(ids[:1], ids[1:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(tokenLPs[i].(float64) - (sum - prev)); d > 1e-4 {
			t.Errorf("token %d: served log-prob %.6f, finetune scorer %.6f", i, tokenLPs[i], sum-prev)
		}
		prev = sum
	}
	if top := lp["top_logprobs"].([]any); len(top[1].(map[string]any)) != 1 {
		t.Errorf("top_logprobs[1] = %v, want one alternative", top[1])
	}
}

// Streaming chat sends a role chunk, content chunks and [DONE]; the content equals the
// non-streaming reply.
func TestChatStreamingMatchesNonStreaming(t *testing.T) {
	_, _, _, hs := newTestServer(t, Options{})
	body := `{"messages": [{"role": "system", "content": "You dream."}, {"role": "user", "content": "Tell me a dream"}], "max_tokens": 20, "temperature": 0%s}`
	code, out := post(t, hs.URL+"/v1/chat/completions", strings.Replace(body, "%s", "", 1))
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	want := choiceText(t, out, 0)
	resp, err := http.Post(hs.URL+"/v1/chat/completions", "application/json", strings.NewReader(strings.Replace(body, "%s", `, "stream": true`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var content strings.Builder
	var events, done int
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		events++
		if line == "[DONE]" {
			done++
			continue
		}
		var chunk map[string]any
		if err := json.Unmarshal([]byte(line), &chunk); err != nil {
			t.Fatalf("chunk %q: %v", line, err)
		}
		delta := chunk["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
		if c, ok := delta["content"].(string); ok {
			content.WriteString(c)
		}
	}
	if done != 1 || events < 3 {
		t.Fatalf("%d events, %d [DONE]", events, done)
	}
	if content.String() != want {
		t.Errorf("streamed %q, non-streaming %q", content.String(), want)
	}
}

// Bad requests get a 400 with a message that says what to change.
func TestBadRequests(t *testing.T) {
	_, _, _, hs := newTestServer(t, Options{MaxBodyBytes: 4096})
	long := strings.Repeat("dream ", 300)
	for _, c := range []struct{ path, body, want string }{
		{"/v1/completions", `{"prompt": "x", "max_tokens": "ten"}`, "max_tokens"},
		{"/v1/completions", `{"prompt": "x",`, "not valid JSON"},
		{"/v1/completions", `{"max_tokens": 3}`, "prompt: missing"},
		{"/v1/completions", `{"prompt": "x", "n": 0}`, "n: 0"},
		{"/v1/completions", `{"prompt": "x", "temperature": -1}`, "temperature"},
		{"/v1/completions", `{"prompt": "x", "max_tokens": 100000}`, "max_tokens: 100000"},
		{"/v1/completions", `{"prompt": "` + long[:1000] + `", "max_tokens": 10}`, "context of 128"},
		{"/v1/completions", `{"prompt": [1, 2, 9999]}`, "outside the vocabulary"},
		{"/v1/completions", `{"prompt": "x", "model": "gpt-4"}`, "not served here"},
		{"/v1/chat/completions", `{"messages": [{"role": "robot", "content": "hi"}]}`, "unknown role"},
		{"/v1/chat/completions", `{"messages": "hi"}`, "messages"},
		{"/v1/completions", `{"prompt": "` + strings.Repeat("x", 5000) + `"}`, "over 4096 bytes"},
	} {
		code, out := post(t, hs.URL+c.path, c.body)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code/100 != 4 || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: status %d, message %q; want 4xx mentioning %q", c.path, c.body[:min(len(c.body), 60)], code, msg, c.want)
		}
	}
}

func TestAPIKeyModelsHealthAndDrain(t *testing.T) {
	s, _, _, hs := newTestServer(t, Options{APIKey: "sekret", ModelName: "dreamer"})
	if code, _ := post(t, hs.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 1}`); code != 401 {
		t.Errorf("no key: status %d, want 401", code)
	}
	if code, out := post(t, hs.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 1}`, "Authorization", "Bearer sekret"); code != 200 {
		t.Errorf("with key: status %d: %v", code, out)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sekret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var models map[string]any
	json.NewDecoder(resp.Body).Decode(&models)
	resp.Body.Close()
	if id := models["data"].([]any)[0].(map[string]any)["id"]; id != "dreamer" {
		t.Errorf("/v1/models lists %v", id)
	}
	s.Drain()
	if resp, err := http.Get(hs.URL + "/health"); err != nil || resp.StatusCode != 503 {
		t.Errorf("health while draining: %v %v", resp.StatusCode, err)
	}
	if code, _ := post(t, hs.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 1}`, "Authorization", "Bearer sekret"); code != 503 {
		t.Errorf("while draining: status %d, want 503", code)
	}
}

// A full queue refuses at once with 429 (the scheduler is not started here, so nothing drains it).
func TestQueueFullIs429(t *testing.T) {
	s := &Server{queue: make(chan *job, 2)}
	for i := 0; i < 2; i++ {
		if err := s.submit(&job{}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.submit(&job{})
	rec := httptest.NewRecorder()
	refuse(rec, err)
	if rec.Code != 429 || !bytes.Contains(rec.Body.Bytes(), []byte("queue is full")) {
		t.Errorf("status %d, body %s", rec.Code, rec.Body)
	}
}

// Shutting down (what SIGTERM does in cmd/serve) lets a streaming request in flight finish
// with [DONE] while new requests get 503.
func TestShutdownFinishesInFlight(t *testing.T) {
	s, _, _, hs := newTestServer(t, Options{})
	resp, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "I dream of", "max_tokens": 100, "stream": true, "temperature": 0}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "data: ") { // the request is running
		t.Fatalf("first line %q", sc.Text())
	}
	s.Drain()
	if code, _ := post(t, hs.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 1}`); code != 503 {
		t.Errorf("new request while draining: status %d, want 503", code)
	}
	shut := make(chan error, 1)
	go func() { shut <- hs.Config.Shutdown(context.Background()) }()
	last := ""
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			last = l
		}
	}
	if last != "data: [DONE]" {
		t.Errorf("in-flight stream ended with %q, want data: [DONE]", last)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
