package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/tokenizer"
)

// TestConfigValidate: each impossible setting is refused, naming its key.
func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		key string
	}{
		{Config{Train: []string{"x"}, ValFraction: 0.1, Format: "csv"}, "data.format"},
		{Config{Train: []string{"x"}, ValFraction: 0.1, TextField: ".x"}, "data.text_field"},
		{Config{Train: []string{"x"}, ValFraction: 0.1, Filters: "strict"}, "data.filters"},
		{Config{Train: []string{"x"}, ValFraction: 0.1, Languages: []string{"english"}}, "data.languages"},
		{Config{Train: []string{"x"}, ValFraction: 0.1, MaxBadFraction: new(2.0)}, "data.max_bad_fraction"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.key) {
			t.Errorf("%s: %v", c.key, err)
		}
	}
}

// TestTokenShardOutOfVocabulary: a shard named directly (no manifest to vouch for its
// vocabulary) with an id past the tokenizer's is refused at start-up, naming the file and
// the token's offset, instead of crashing the backend's gather at the first batch.
func TestTokenShardOutOfVocabulary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shard_000000.bin")
	w, err := CreateShard(path, ShardVersion16)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, 5000)
	for i := range ids {
		ids[i] = i % 256
	}
	ids[4321] = 40000 // a GPT-2 id, in a run with the byte tokenizer (257 ids)
	if err := w.Write(ids); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(Config{Train: []string{path}, ValFraction: 0.05}, tokenizer.NewByte(), nil)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "token 40000 at offset 4321") {
		t.Fatalf("out-of-vocabulary shard: %v; want an error naming %s and offset 4321", err, path)
	}
	ids[4321] = 256 // every id in range: accepted
	w, _ = CreateShard(path, ShardVersion16)
	w.Write(ids)
	w.Close()
	if _, _, err := Open(Config{Train: []string{path}, ValFraction: 0.05}, tokenizer.NewByte(), nil); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRawTextNeedsSource: without a TextSource, raw text is refused with the key, the
// files and what to do, rather than read by code this package does not link.
func TestOpenRawTextNeedsSource(t *testing.T) {
	txt := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(txt, []byte("some text"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(Config{Train: []string{txt}, ValFraction: 0.1}, tokenizer.NewByte(), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "data.train: "+txt) || !strings.Contains(err.Error(), "run prepare") {
		t.Fatalf("raw text without a TextSource: %v", err)
	}
}
