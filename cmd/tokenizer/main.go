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
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr, 2)
	}
	var err error
	switch os.Args[1] {
	case "train":
		err = train(os.Args[2:])
	case "encode":
		err = encode(os.Args[2:])
	case "decode":
		err = decode(os.Args[2:])
	case "info":
		err = info(os.Args[2:])
	case "convert":
		err = convert(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage(os.Stdout, 0)
	default:
		usage(os.Stderr, 2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenizer:", err)
		os.Exit(1)
	}
}

// usage prints the subcommands and exits with code (0 for -h, 2 for a wrong call).
func usage(w io.Writer, code int) {
	fmt.Fprintln(w, `usage: tokenizer train|encode|decode|info|convert [flags] [args]   (tokenizer SUBCOMMAND -h for its flags)
  train  -vocab N [-pattern gpt2|cl100k] [-special list] [-min-freq N] [-format F] [-max-bytes N] -o tokenizer.json FILES...
  encode -t TOKENIZER [-special] [TEXT]   (TEXT from stdin if absent; prints ids)
  decode -t TOKENIZER IDS...             (ids from stdin if absent)
  info   -t TOKENIZER
  convert -t TOKENIZER -o tokenizer.json   (any format LoadAny reads -> Hugging Face tokenizer.json)`)
	os.Exit(code)
}
