package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/golem-ml/golem/convert"
)

// importCmd is `convert import SRC --out RUN_DIR`: a foreign checkpoint becomes step 0 of a run.
func importCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convert import SRC --out RUN_DIR [flags]\n  SRC: a Hugging Face folder or a llama2.c .bin")
		fs.PrintDefaults()
	}
	dst := fs.String("out", "", "run folder to create (required)")
	tok := fs.String("tokenizer", "", "tokenizer file or folder (default: beside the weights)")
	name := fs.String("name", "", "run name in config.yaml (default: the source's name)")
	seqLen := fs.Int("seq-len", 0, "shorten the context to this many tokens (0 = the model's)")
	allow := fs.Bool("allow-nonfinite", false, "import NaN/Inf weights instead of refusing the file")
	src, err := parse(fs, args, dst)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := convert.ImportWith(src, convert.ImportOptions{Tokenizer: *tok, AllowNonfinite: *allow})
	if err != nil {
		return err
	}
	if *name != "" {
		m.Name = *name
	}
	if *seqLen > 0 {
		if m, err = m.WithSeqLen(*seqLen); err != nil {
			return err
		}
	}
	dir, err := convert.Save(m, *dst)
	if err != nil {
		return err
	}
	c := m.Config
	fmt.Fprintf(out, "imported %s: %.2fM params, %d layers, width %d, heads %d/%d, vocab %d, ctx %d, %s/%s/%s (%.1fs)\ncheckpoint %s\n",
		src, float64(c.NumParams())/1e6, c.Layers, c.Width, c.Heads, c.KVHeads, c.VocabSize, c.SeqLen, c.Positions, c.Norm, c.MLP,
		time.Since(start).Seconds(), dir)
	return nil
}
