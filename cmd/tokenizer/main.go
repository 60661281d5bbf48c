// Command tokenizer trains, inspects and runs golem tokenizers.
//
//	tokenizer train -vocab 8192 -o tokenizer.json corpus/*.jsonl.gz more.txt
//	tokenizer encode -t tokenizer.json "some text"      (or text on stdin)
//	tokenizer decode -t tokenizer.json 464 2068 7586
//	tokenizer info -t cl100k_base.tiktoken
//	tokenizer convert -t cl100k_base.tiktoken -o cl100k.json
//
// train reads any shard format golem's data package reads (text, JSONL, WARC/WET, gzip
// or zstd compressed), learns a byte-level BPE and writes a Hugging Face tokenizer.json.
// -t accepts every format tokenizer.LoadAny knows: tokenizer.json, a GPT-2
// encoder.json/vocab.bpe directory, *.tiktoken, SentencePiece tokenizer.model and
// llama2.c tokenizer.bin.
package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/golem-ml/golem/internal/cli"
)

const usage = `usage: tokenizer train|encode|decode|info|convert [flags] [args]   (tokenizer SUBCOMMAND -h for its flags)
  train  -vocab N [-pattern gpt2|cl100k] [-special list] [-min-freq N] [-format F] [-max-bytes N] -o tokenizer.json FILES...
  encode -t TOKENIZER [-special] [TEXT]   (TEXT from stdin if absent; prints ids)
  decode -t TOKENIZER IDS...             (ids from stdin if absent)
  info   -t TOKENIZER
  convert -t TOKENIZER -o tokenizer.json   (any format LoadAny reads -> Hugging Face tokenizer.json)`

func main() { cli.Main("tokenizer", run) }

// run picks the subcommand; each parses its own flags from a FlagSet printing to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return cli.ExitCode(2)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "train":
		return train(fs, args[1:], stderr)
	case "encode":
		return encode(fs, args[1:], stdout)
	case "decode":
		return decode(fs, args[1:], stdout)
	case "info":
		return info(fs, args[1:], stdout)
	case "convert":
		return convert(fs, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return cli.ExitCode(2)
}
