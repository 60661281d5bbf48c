package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/golem-ml/golem/convert"
)

// exportCmd is `convert export CKPT --out DIR`: a golem checkpoint in a foreign format.
func exportCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convert export CKPT --out DIR [flags]\n  CKPT: a golem checkpoint or run folder")
		fs.PrintDefaults()
	}
	dst := fs.String("out", "", "output folder (required)")
	format := fs.String("format", "hf", "hf or llama2c")
	arch := fs.String("arch", "", "hf: Hugging Face architecture (default: the one that fits; "+fmt.Sprint(convert.Architectures())+")")
	dtype := fs.String("dtype", "F32", "hf: F32 or BF16")
	shardMB := fs.Int64("shard-mb", 0, "hf: split weights into shards of about this many MB (0 = one file)")
	src, err := parse(fs, args, dst)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := convert.Load(src)
	if err != nil {
		return err
	}
	switch *format {
	case "hf":
		err = convert.ExportHF(m, *dst, convert.ExportOptions{Architecture: *arch, DType: *dtype, ShardBytes: *shardMB << 20})
	case "llama2c":
		err = convert.ExportLlama2CDir(m, *dst)
	default:
		err = fmt.Errorf("--format %q: want hf or llama2c", *format)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "exported %s as %s to %s (%.1fs)\n", m.Source, *format, *dst, time.Since(start).Seconds())
	return nil
}
