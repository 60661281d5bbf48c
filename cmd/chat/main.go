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
	"os"
	"strings"

	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/train"
)

func main() {
	ckpt := flag.String("ckpt", "checkpoints/small", "checkpoint folder, or a run folder (its newest checkpoint)")
	adapter := flag.String("adapter", "", "a LoRA run or checkpoint to put on top of --ckpt")
	template := flag.String("template", "chatml", "chat template: chatml, llama2, zephyr, alpaca, plain, or a YAML file")
	system := flag.String("system", "", "system prompt")
	prompt := flag.String("prompt", "", "first user message")
	once := flag.Bool("no-interactive", false, "answer --prompt and exit")
	maxTokens := flag.Int("max-tokens", 256, "most tokens per reply (less when the context is shorter)")
	temperature := flag.Float64("temperature", 0.7, "sampling temperature; 0 = greedy")
	topP := flag.Float64("top-p", 0.95, "nucleus sampling threshold")
	seed := flag.Uint64("seed", 1, "random seed")
	backendName := flag.String("backend", "", "compute backend (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	flag.Parse()
	if *once && *prompt == "" {
		fail(fmt.Errorf("--no-interactive needs --prompt"))
	}

	backend, err := train.NewInferenceBackend(*backendName)
	check(err)
	m, err := finetune.Load(backend, *ckpt, *adapter)
	check(err)
	tmpl, err := finetune.LoadTemplate(*template)
	check(err)
	e, err := generate.NewEngine(m.Generation())
	check(err)
	s := &session{e: e, tok: m.Tok, tmpl: tmpl, system: *system, params: generate.Params{
		MaxTokens: min(*maxTokens, m.Cfg.Model.SeqLen/2), Temperature: *temperature, TopP: *topP, Seed: *seed, StopIDs: generate.StopIDs(m.Tok)}}
	ctx := context.Background()
	if *prompt != "" {
		_, err := s.reply(ctx, *prompt, os.Stdout)
		check(err)
		fmt.Println()
		if *once {
			return
		}
	}
	in := bufio.NewScanner(os.Stdin)
	for fmt.Fprint(os.Stderr, "> "); in.Scan(); fmt.Fprint(os.Stderr, "> ") {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		if _, err := s.reply(ctx, line, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "chat:", err)
		}
		fmt.Println()
	}
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "chat:", err)
	os.Exit(1)
}
