// Command convert brings pretrained weights into golem and takes checkpoints out.
//
//	convert import SRC --out RUN_DIR [--tokenizer PATH] [--name NAME] [--seq-len T]
//	    SRC: a Hugging Face folder (config.json, *.safetensors, tokenizer.json) or a
//	    llama2.c .bin (with --tokenizer tokenizer.bin); writes RUN_DIR/step-00000000.
//	convert export CKPT --out DIR [--format hf|llama2c] [--arch LlamaForCausalLM] [--dtype F32|BF16] [--shard-mb N]
//	    CKPT: a golem checkpoint or run folder; hf writes DIR/{config.json,model.safetensors,
//	    tokenizer.json}; llama2c writes DIR/model.bin and DIR/tokenizer.bin (tokenizer.json for vocabularies
//	    llama2.c cannot hold), which llama2.c's run.c reads.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/golem-ml/golem/convert"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) < 2 || (args[0] != "import" && args[0] != "export") {
		return fmt.Errorf("usage: convert import SRC --out RUN_DIR [--tokenizer PATH] | convert export CKPT --out DIR [--format hf|llama2c]")
	}
	fs := flag.NewFlagSet("convert "+args[0], flag.ContinueOnError)
	dst := fs.String("out", "", "output folder (required)")
	tok := fs.String("tokenizer", "", "import: tokenizer file or folder (default: beside the weights)")
	name := fs.String("name", "", "import: run name in config.yaml (default: the source's name)")
	seqLen := fs.Int("seq-len", 0, "import: shorten the context to this many tokens (0 = the model's)")
	format := fs.String("format", "hf", "export: hf or llama2c")
	arch := fs.String("arch", "", "export: Hugging Face architecture (default: the one that fits; "+fmt.Sprint(convert.Architectures())+")")
	dtype := fs.String("dtype", "F32", "export hf: F32 or BF16")
	shardMB := fs.Int64("shard-mb", 0, "export hf: split weights into shards of about this many MB (0 = one file)")
	src := args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *dst == "" {
		return fmt.Errorf("--out is required")
	}
	start := time.Now()
	if args[0] == "import" {
		m, err := convert.Import(src, *tok)
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
