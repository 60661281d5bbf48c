// Command serve answers the OpenAI API (/v1/completions, /v1/chat/completions, /v1/models,
// /health) for a checkpoint, a merged fine-tune, or a base plus a LoRA adapter.
//
//	serve --ckpt checkpoints/small [--adapter LORA_RUN] [--host 127.0.0.1] [--port 8000] [--api-key KEY]
//
// SIGTERM or Ctrl-C stops accepting requests and finishes the ones in flight.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/serve"
	"github.com/golem-ml/golem/train"
)

func main() {
	ckpt := flag.String("ckpt", "checkpoints/small", "checkpoint folder, or a run folder (its newest checkpoint)")
	adapter := flag.String("adapter", "", "a LoRA run or checkpoint to put on top of --ckpt")
	host := flag.String("host", "127.0.0.1", "address to listen on (loopback by default; 0.0.0.0 for every interface)")
	port := flag.Int("port", 8000, "port to listen on")
	key := flag.String("api-key", os.Getenv("GOLEM_API_KEY"), "require \"Authorization: Bearer KEY\" (default $GOLEM_API_KEY; empty = no key)")
	name := flag.String("model-name", "golem", "the model id clients send and /v1/models lists")
	template := flag.String("template", "chatml", "chat template: chatml, llama2, zephyr, alpaca, plain, or a YAML file")
	maxBatch := flag.Int("max-batch", 8, "rows decoded together")
	maxQueue := flag.Int("max-queue", 64, "requests waiting; past it the server answers 429")
	backendName := flag.String("backend", "", "compute backend (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	flag.Parse()

	backend, err := train.NewInferenceBackend(*backendName)
	check(err)
	m, err := finetune.Load(backend, *ckpt, *adapter)
	check(err)
	tmpl, err := finetune.LoadTemplate(*template)
	check(err)
	e, err := generate.NewEngine(m.Generation())
	check(err)
	s := serve.New(e, m.Tok, serve.Options{ModelName: *name, APIKey: *key, MaxBatch: *maxBatch, MaxQueue: *maxQueue, Template: tmpl})
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	check(err)
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, "serve: draining: finishing requests in flight")
		s.Drain()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "serve: %s (context %d tokens) on http://%s\n", m.Dir, m.Cfg.Model.SeqLen, ln.Addr())
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		check(err)
	}
	s.Close()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
