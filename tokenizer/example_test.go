package tokenizer_test

import (
	"fmt"
	"slices"

	"github.com/golem-ml/golem/tokenizer"
)

func ExampleTrain() {
	docs := slices.Values([]string{
		"the cat sat on the mat",
		"the dog sat on the log",
		"Кот сидел на ковре",
	})
	tok, err := tokenizer.Train(docs, tokenizer.TrainOptions{
		VocabSize:     280,
		SpecialTokens: []string{tokenizer.EndOfText, "<|pad|>"},
	})
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("the cat sat")
	fmt.Println(len(ids), tok.Decode(ids))
	fmt.Println(tok.EncodeWithSpecial("hi<|endoftext|>")[2] == tok.EOT())
	// Output:
	// 5 the cat sat
	// true
}

func ExampleLoadAny() {
	tok, err := tokenizer.LoadAny("../testdata/tokenizer/cl100k_base.tiktoken")
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("Hello, world!")
	fmt.Println(ids, tok.Decode(ids))
	// Output: [9906 11 1917 0] Hello, world!
}
