package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/internal/cli"
)

// mergeCmd is `finetune merge`: fold a LoRA adapter into a plain checkpoint.
func mergeCmd(fs *flag.FlagSet, args []string, base, backendName *string, stdout io.Writer) error {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: finetune merge --base CKPT --adapter LORA_RUN --out DIR")
		fs.PrintDefaults()
	}
	adapter := fs.String("adapter", "", "LoRA run or checkpoint whose adapter is folded into --base")
	out := fs.String("out", "", "output folder for the merged checkpoint")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *base == "" || *adapter == "" || *out == "" {
		return cli.UsageError{Err: fmt.Errorf("merge needs --base, --adapter and --out")}
	}
	backend, err := backends.New(*backendName)
	if err != nil {
		return err
	}
	dir, err := finetune.Merge(backend, *base, *adapter, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %s onto %s: %s\n", *adapter, *base, dir)
	return nil
}
