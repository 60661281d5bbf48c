package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShardRewriteFailureKeepsPrevious: a shard rewrite that fails part way (an id the
// version cannot hold, after a megabyte of good tokens) and is aborted leaves the
// previous shard whole, and no temporary file behind.
func TestShardRewriteFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "train_000000.bin")
	sw, err := CreateShard(path, ShardVersion16)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Write([]int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	sw, err = CreateShard(path, ShardVersion16)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Write(make([]int, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := sw.Write([]int{70000}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want a too-large id naming %s", err, path)
	}
	sw.Abort()

	after, err := os.ReadFile(path)
	if err != nil || string(after) != string(before) {
		t.Fatalf("after the aborted rewrite the shard has %d bytes (%v), want the previous %d", len(after), err, len(before))
	}
	if v, n, err := ShardHeader(path); err != nil || v != ShardVersion16 || n != 3 {
		t.Fatalf("ShardHeader = %d, %d, %v; want version 1, 3 tokens", v, n, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want only the shard", len(entries))
	}
}
