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
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/serve"
)

func main() { cli.Main("serve", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("ckpt", "checkpoints/small", "checkpoint folder, or a run folder (its newest checkpoint)")
	adapter := fs.String("adapter", "", "a LoRA run or checkpoint to put on top of --ckpt")
	host := fs.String("host", "127.0.0.1", "address to listen on (loopback by default; 0.0.0.0 for every interface)")
	port := fs.Int("port", 8000, "port to listen on")
	key := fs.String("api-key", os.Getenv("GOLEM_API_KEY"), "require \"Authorization: Bearer KEY\" (default $GOLEM_API_KEY; empty = no key)")
	name := fs.String("model-name", "golem", "the model id clients send and /v1/models lists")
	template := fs.String("template", "chatml", "chat template: chatml, llama2, zephyr, alpaca, plain, or a YAML file")
	maxBatch := fs.Int("max-batch", 8, "rows decoded together")
	maxQueue := fs.Int("max-queue", 64, "requests waiting; past it the server answers 429")
	backendName := fs.String("backend", "", "compute backend (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	m, e, tmpl, err := inference.OpenChat(*backendName, *ckpt, *adapter, *template)
	if err != nil {
		return err
	}
	s := serve.New(e, m.Tok, serve.Options{ModelName: *name, APIKey: *key, MaxBatch: *maxBatch, MaxQueue: *maxQueue, Template: tmpl})
	defer s.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		fmt.Fprintln(stderr, "serve: draining: finishing requests in flight")
		s.Drain()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	fmt.Fprintf(stderr, "serve: %s (context %d tokens) on http://%s\n", m.Dir, m.Cfg.SeqLen, ln.Addr())
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
