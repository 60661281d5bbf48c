// Command chat talks with a model through its chat template, streaming the reply as it is
// produced. History is kept while it fits the context (the oldest exchanges go first).
//
//	chat --ckpt RUN [--adapter LORA_RUN] [--template chatml] [--system "You are terse."]
//	chat --ckpt RUN --prompt "Name a color." --no-interactive
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/internal/cli"
)

func main() { cli.Main("chat", run) }

// stdin is where the conversation reads its user turns (tests replace it).
var stdin io.Reader = os.Stdin

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("ckpt", "checkpoints/small", "checkpoint folder, or a run folder (its newest checkpoint)")
	adapter := fs.String("adapter", "", "a LoRA run or checkpoint to put on top of --ckpt")
	template := fs.String("template", "chatml", "chat template: chatml, llama2, zephyr, alpaca, plain, or a YAML file")
	system := fs.String("system", "", "system prompt")
	prompt := fs.String("prompt", "", "first user message")
	once := fs.Bool("no-interactive", false, "answer --prompt and exit")
	maxTokens := fs.Int("max-tokens", 256, "most tokens per reply (less when the context is shorter)")
	temperature := fs.Float64("temperature", 0.7, "sampling temperature; 0 = greedy")
	topP := fs.Float64("top-p", 0.95, "nucleus sampling threshold")
	seed := fs.Uint64("seed", 1, "random seed")
	backendName := fs.String("backend", "", "compute backend (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *once && *prompt == "" {
		return cli.UsageError{Err: fmt.Errorf("--no-interactive needs --prompt")}
	}
	m, e, tmpl, err := inference.OpenChat(*backendName, *ckpt, *adapter, *template)
	if err != nil {
		return err
	}
	s := &session{e: e, tok: m.Tok, tmpl: tmpl, system: *system, params: generate.Params{
		MaxTokens: min(*maxTokens, m.Cfg.SeqLen/2), Temperature: *temperature, TopP: *topP, Seed: *seed, StopIDs: generate.StopIDs(m.Tok)}}
	ctx := context.Background()
	if *prompt != "" {
		if _, err := s.reply(ctx, *prompt, stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		if *once {
			return nil
		}
	}
	in := bufio.NewScanner(stdin)
	for fmt.Fprint(stderr, "> "); in.Scan(); fmt.Fprint(stderr, "> ") {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		if _, err := s.reply(ctx, line, stdout); err != nil {
			fmt.Fprintln(stderr, "chat:", err)
		}
		fmt.Fprintln(stdout)
	}
	return in.Err()
}
