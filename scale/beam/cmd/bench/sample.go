package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/corpus"
)

// writeSample writes copies JSONL files into dir: copy 0 is every document of the
// shipped Common Crawl samples, and each later copy holds every document again, perturbed
// by a seeded RNG: a third unchanged (exact duplicates across files), a third with one word
// in 50 replaced (near duplicates), a third with its words shuffled (new documents that
// survive dedup). It returns the bytes written.
func writeSample(dir string, sources []string, copies int) (int64, error) {
	var docs []string
	for d, err := range corpus.Documents(sources, corpus.ReadOptions{}) {
		if err != nil {
			return 0, fmt.Errorf("reading the samples: %w", err)
		}
		docs = append(docs, d.Text)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var total int64
	for c := range copies {
		r := rand.New(rand.NewPCG(uint64(c), 17))
		var b strings.Builder
		for _, text := range docs {
			if c > 0 {
				text = perturb(text, r)
			}
			line, _ := json.Marshal(map[string]string{"text": text})
			b.Write(line)
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("copy%03d.jsonl", c))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
		total += int64(b.Len())
	}
	return total, nil
}

func perturb(text string, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return text
	case 1:
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			w := strings.Fields(l)
			for j := range w {
				if r.IntN(50) == 0 {
					w[j] = fmt.Sprintf("w%d", r.IntN(1000))
				}
			}
			lines[i] = strings.Join(w, " ")
		}
		return strings.Join(lines, "\n")
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		w := strings.Fields(l)
		r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
		lines[i] = strings.Join(w, " ")
	}
	return strings.Join(lines, "\n")
}
