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
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/schollz/progressbar/v3"
)

func main() {
	if len(os.Args) < 2 {
		usage()
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
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenizer:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: tokenizer train|encode|decode|info [flags] [args]
  train  -vocab N [-pattern gpt2|cl100k] [-special list] [-min-freq N] [-format F] [-max-bytes N] -o tokenizer.json FILES...
  encode -t TOKENIZER [-special] [TEXT]   (TEXT from stdin if absent; prints ids)
  decode -t TOKENIZER IDS...             (ids from stdin if absent)
  info   -t TOKENIZER
  convert -t TOKENIZER -o tokenizer.json   (any format LoadAny reads -> Hugging Face tokenizer.json)`)
	os.Exit(2)
}

func train(args []string) error {
	fs := flag.NewFlagSet("train", flag.ExitOnError)
	vocab := fs.Int("vocab", 8192, "vocabulary size, including the 256 bytes and the special tokens")
	pattern := fs.String("pattern", "gpt2", "pre-tokenization: gpt2 or cl100k")
	special := fs.String("special", strings.Join(tokenizer.DefaultSpecialTokens, ","), "comma-separated special tokens")
	minFreq := fs.Int("min-freq", 2, "minimum pair frequency to merge")
	workers := fs.Int("workers", 0, "counting goroutines (0 = all cores)")
	format := fs.String("format", "auto", "shard format: auto, text, lines, jsonl, warc")
	maxBytes := fs.Int64("max-bytes", 0, "stop reading the corpus after this many bytes of text (0 = all)")
	out := fs.String("o", "tokenizer.json", "output tokenizer.json")
	quiet := fs.Bool("q", false, "no progress bars")
	fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("train: give corpus files (or globs)")
	}
	files, err := data.Expand(fs.Args())
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		total += st.Size()
	}
	var specials []string
	for s := range strings.SplitSeq(*special, ",") {
		if s = strings.TrimSpace(s); s != "" {
			specials = append(specials, s)
		}
	}
	readBar := newBar(total, "reading corpus", true, *quiet)
	var mergeBar *progressbar.ProgressBar
	problems := &data.Problems{MaxSamples: 10}
	var readErr error
	start := time.Now()
	var textBytes int64
	docs := func(yield func(string) bool) {
		var done int64
		for _, f := range files {
			r, err := data.OpenDocs(f, data.ReadOptions{Format: *format, Problems: problems})
			if err != nil {
				readErr = err
				return
			}
			for {
				d, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					r.Close()
					readErr = fmt.Errorf("%s: %w", f, err)
					return
				}
				readBar.Set64(done + r.Offset())
				textBytes += int64(len(d.Text))
				if !yield(d.Text) {
					r.Close()
					return
				}
				if *maxBytes > 0 && textBytes >= *maxBytes {
					r.Close()
					return
				}
			}
			done += r.Offset()
			r.Close()
		}
		readBar.Set64(total)
	}
	tok, err := tokenizer.Train(iter.Seq[string](docs), tokenizer.TrainOptions{
		VocabSize: *vocab, Pattern: tokenizer.Pattern(*pattern), SpecialTokens: specials,
		MinFrequency: *minFreq, Workers: *workers,
		Progress: func(stage string, done, total int64) {
			if stage != "merge" {
				return
			}
			if mergeBar == nil {
				readBar.Finish()
				mergeBar = newBar(total, "merging", false, *quiet)
			}
			mergeBar.Set64(done)
		},
	})
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return err
	}
	if mergeBar != nil {
		mergeBar.Finish()
	}
	if err := tokenizer.Save(tok, *out); err != nil {
		return err
	}
	if n := problems.Total(); n > 0 {
		fmt.Fprintf(os.Stderr, "%d bad input records skipped\n", n)
	}
	fmt.Fprintf(os.Stderr, "\nwrote %s: %d tokens (%d merges, %d special) from %.1f MB of text in %s\n",
		*out, tok.VocabSize(), tok.VocabSize()-256-len(specials), len(specials),
		float64(textBytes)/1e6, time.Since(start).Round(time.Millisecond))
	return nil
}

func newBar(max int64, desc string, bytes, quiet bool) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max,
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowBytes(bytes),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetVisibility(!quiet),
	)
}

func loadFlag(fs *flag.FlagSet, args []string) (tokenizer.Tokenizer, error) {
	path := fs.String("t", "", "tokenizer file or directory")
	fs.Parse(args)
	if *path == "" {
		return nil, fmt.Errorf("%s: -t TOKENIZER is required", fs.Name())
	}
	return tokenizer.LoadAny(*path)
}

func encode(args []string) error {
	fs := flag.NewFlagSet("encode", flag.ExitOnError)
	withSpecial := fs.Bool("special", false, "recognize special tokens in the text")
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if fs.NArg() == 0 {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	var ids []int
	if se, ok := tok.(interface {
		EncodeWithSpecial(string, ...string) []int
	}); ok && *withSpecial {
		ids = se.EncodeWithSpecial(text)
	} else {
		ids = tok.Encode(text)
	}
	w := bufio.NewWriter(os.Stdout)
	for i, id := range ids {
		if i > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(strconv.Itoa(id))
	}
	w.WriteByte('\n')
	return w.Flush()
}

func decode(args []string) error {
	fs := flag.NewFlagSet("decode", flag.ExitOnError)
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	fields := fs.Args()
	if fs.NArg() == 0 {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		fields = strings.Fields(string(b))
	}
	ids := make([]int, len(fields))
	for i, f := range fields {
		if ids[i], err = strconv.Atoi(strings.Trim(f, ",[]")); err != nil {
			return fmt.Errorf("decode: %q is not a token id", f)
		}
	}
	_, err = os.Stdout.WriteString(tok.Decode(ids))
	return err
}

func info(args []string) error {
	fs := flag.NewFlagSet("info", flag.ExitOnError)
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	fmt.Printf("type: %T\nvocab size: %d\nend of text: %d\n", tok, tok.VocabSize(), tok.EOT())
	if b, ok := tok.(*tokenizer.BPE); ok {
		fmt.Printf("pattern: %s\nspecial tokens: %q\n", b.Pattern(), b.SpecialTokens())
	}
	if s, ok := tok.(*tokenizer.SentencePiece); ok {
		fmt.Printf("bos: %d\n", s.BOS())
	}
	return nil
}

func convert(args []string) error {
	fs := flag.NewFlagSet("convert", flag.ExitOnError)
	out := fs.String("o", "tokenizer.json", "output tokenizer.json")
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	return tokenizer.Save(tok, *out)
}
