package main

import (
	"flag"
	"fmt"

	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/internal/cli"
)

// configFlags are the flags that build a finetune.Config, shared by training and eval.
type configFlags struct {
	path       *string
	base       *string
	data, sets []string
}

func configFlagsOn(fs *flag.FlagSet, base *string) *configFlags {
	c := &configFlags{base: base}
	c.path = fs.String("config", "", "fine-tuning config (YAML); defaults: full fine-tuning, 3 epochs, completion-only loss")
	listFlag(fs, "data", "examples, JSONL or a JSON array (repeatable)", &c.data)
	listFlag(fs, "set", "override a config key, e.g. --set lora.rank=16 (repeatable)", &c.sets)
	return c
}

// load resolves the config: the file, then these flags, then --set (which wins).
func (c *configFlags) load(keys map[string]string, lists map[string][]string) (finetune.Config, error) {
	keys["base"] = *c.base
	lists["data.train"] = c.data
	over := finetune.Overrides(keys, lists)
	return finetune.LoadConfig(*c.path, append(over, c.sets...))
}

func listFlag(fs *flag.FlagSet, name, usage string, l *[]string) {
	fs.Func(name, usage, func(v string) error { *l = append(*l, v); return nil })
}

// parse parses flags and refuses positional arguments (subcommands come first).
func parse(fs *flag.FlagSet, args []string) error {
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.UsageError{Err: fmt.Errorf("unexpected argument %q; subcommands are merge and eval, and they come first", fs.Arg(0))}
	}
	return nil
}
