// Command convert brings pretrained weights into golem and takes checkpoints out.
//
//	convert import SRC --out RUN_DIR [--tokenizer PATH] [--name NAME] [--seq-len T] [--allow-nonfinite]
//	    SRC: a Hugging Face folder (config.json, *.safetensors, tokenizer.json) or a
//	    llama2.c .bin (with --tokenizer tokenizer.bin); writes RUN_DIR/step-00000000.
//	convert export CKPT --out DIR [--format hf|llama2c] [--arch LlamaForCausalLM] [--dtype F32|BF16] [--shard-mb N]
//	    CKPT: a golem checkpoint or run folder; hf writes DIR/{config.json,model.safetensors,
//	    tokenizer.json}; llama2c writes DIR/model.bin and DIR/tokenizer.bin (tokenizer.json for vocabularies
//	    llama2.c cannot hold), which llama2.c's run.c reads.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/golem-ml/golem/internal/cli"
)

const usage = `usage: convert import SRC --out RUN_DIR [flags]   (convert import -h for its flags)
       convert export CKPT --out DIR [flags]     (convert export -h for its flags)`

func main() { cli.Main("convert", run) }

func run(args []string, out, errOut io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(out, usage)
		return flag.ErrHelp
	}
	if len(args) < 1 {
		return cli.UsageError{Err: errors.New(usage)}
	}
	fs := flag.NewFlagSet("convert "+args[0], flag.ContinueOnError)
	fs.SetOutput(errOut)
	switch args[0] {
	case "import":
		return importCmd(fs, args[1:], out)
	case "export":
		return exportCmd(fs, args[1:], out)
	}
	return cli.UsageError{Err: errors.New(usage)}
}

// parse reads the flags around the one positional argument (SRC before or after the flags)
// and checks that --out was given.
func parse(fs *flag.FlagSet, args []string, dst *string) (string, error) {
	src := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		src, args = args[0], args[1:]
	}
	if err := cli.Parse(fs, args); err != nil {
		return "", err
	}
	if src == "" && fs.NArg() > 0 {
		src = fs.Arg(0)
	}
	switch {
	case src == "":
		return "", cli.UsageError{Err: fmt.Errorf("%s: give the source as the first argument", fs.Name())}
	case *dst == "":
		return "", cli.UsageError{Err: fmt.Errorf("%s: --out is required", fs.Name())}
	}
	return src, nil
}
