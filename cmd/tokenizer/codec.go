package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/tokenizer"
)

// loadFlag adds -t to fs, parses args and loads the tokenizer -t names.
func loadFlag(fs *flag.FlagSet, args []string) (tokenizer.Tokenizer, error) {
	path := fs.String("t", "", "tokenizer file or directory")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if *path == "" {
		return nil, fmt.Errorf("%s: -t TOKENIZER is required", fs.Name())
	}
	return tokenizer.LoadAny(*path)
}

func encode(fs *flag.FlagSet, args []string, stdout io.Writer) error {
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
	w := bufio.NewWriter(stdout)
	for i, id := range ids {
		if i > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(strconv.Itoa(id))
	}
	w.WriteByte('\n')
	return w.Flush()
}

func decode(fs *flag.FlagSet, args []string, stdout io.Writer) error {
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
	_, err = io.WriteString(stdout, tok.Decode(ids))
	return err
}

func info(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "type: %T\nvocab size: %d\nend of text: %d\n", tok, tok.VocabSize(), tok.EOT())
	if b, ok := tok.(*tokenizer.BPE); ok {
		fmt.Fprintf(stdout, "pattern: %s\nspecial tokens: %q\n", b.Pattern(), b.SpecialTokens())
	}
	if s, ok := tok.(*tokenizer.SentencePiece); ok {
		fmt.Fprintf(stdout, "bos: %d\n", s.BOS())
	}
	return nil
}

func convert(fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "tokenizer.json", "output tokenizer.json")
	tok, err := loadFlag(fs, args)
	if err != nil {
		return err
	}
	return tokenizer.Save(tok, *out)
}
