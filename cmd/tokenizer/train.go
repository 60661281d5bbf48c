package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/schollz/progressbar/v3"
)

func train(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	vocab := fs.Int("vocab", 8192, "vocabulary size, including the 256 bytes and the special tokens")
	pattern := fs.String("pattern", "gpt2", "pre-tokenization: gpt2 or cl100k")
	special := fs.String("special", strings.Join(tokenizer.DefaultSpecialTokens, ","), "comma-separated special tokens")
	minFreq := fs.Int("min-freq", 2, "minimum pair frequency to merge")
	workers := fs.Int("workers", 0, "counting goroutines (0 = all cores)")
	format := fs.String("format", "auto", "shard format: auto, text, lines, jsonl, warc")
	maxBytes := fs.Int64("max-bytes", 0, "stop reading the corpus after this many bytes of text (0 = all)")
	out := fs.String("o", "tokenizer.json", "output tokenizer.json")
	quiet := fs.Bool("q", false, "no progress bars")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("train: give corpus files (or globs)")
	}
	files, err := data.Expand(fs.Args())
	if err != nil {
		return err
	}
	var total int64 // for the progress bar: corpus.Documents reads the same files
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
	// The bar shows bytes without a rate: reading is driven by the pair counting, in bursts the
	// bar's own rolling rate turns into GB/s; the closing line gives the real rate.
	readBar := newBar(stderr, total, "reading corpus (bytes)", false, *quiet)
	var readTime time.Duration
	var mergeBar *progressbar.ProgressBar
	problems := &corpus.Problems{MaxSamples: 10}
	var readErr error
	start := time.Now()
	var textBytes int64
	opts := corpus.ReadOptions{Format: *format, Problems: problems, Progress: func(n int64) { readBar.Set64(n) }}
	docs := func(yield func(string) bool) {
		defer func() { readTime = time.Since(start) }() // also when --max-bytes stops early
		for d, err := range corpus.Documents(fs.Args(), opts) {
			if err != nil {
				readErr = err
				return
			}
			textBytes += int64(len(d.Text))
			if !yield(d.Text) || *maxBytes > 0 && textBytes >= *maxBytes {
				return
			}
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
				mergeBar = newBar(stderr, total, "merging", false, *quiet)
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
		fmt.Fprintf(stderr, "%s skipped\n", data.Plural(n, "bad input record"))
	}
	fmt.Fprintf(stderr, "\nwrote %s: %d tokens (%d merges, %d special) from %.1f MB of text in %s (read and counted at %.1f MB/s)\n",
		*out, tok.VocabSize(), tok.VocabSize()-256-len(specials), len(specials),
		float64(textBytes)/1e6, time.Since(start).Round(time.Millisecond), float64(textBytes)/1e6/max(readTime.Seconds(), 1e-9))
	return nil
}

func newBar(w io.Writer, max int64, desc string, bytes, quiet bool) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max,
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(bytes),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetVisibility(!quiet),
	)
}
