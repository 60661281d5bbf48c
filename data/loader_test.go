package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// shardFixture writes 3 token shards of documents [EOT, d, d+1, ...] and returns the set.
func shardFixture(t *testing.T) *ShardSet {
	dir := t.TempDir()
	doc := 0
	for s, n := range []int{700, 300, 631} { // tokens per shard
		w, err := CreateShard(filepath.Join(dir, fmt.Sprintf("shard_%d.bin", s)), ShardVersion32)
		if err != nil {
			t.Fatal(err)
		}
		for written := 0; written < n; {
			l := min(1+doc%23, n-written-1)
			ids := []int{1 << 20} // EOT
			for k := range max(l, 0) {
				ids = append(ids, doc*100+k)
			}
			ids = ids[:min(len(ids), n-written)]
			w.Write(ids)
			written += len(ids)
			doc++
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	set, err := OpenShards([]string{dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

func TestLoaderResumeAcrossShardAndEpoch(t *testing.T) {
	set := shardFixture(t)
	if set.Len() != 1631 || len(set.Shards) != 3 {
		t.Fatalf("fixture: %d tokens in %d shards", set.Len(), len(set.Shards))
	}
	const T, B = 16, 4 // 101 windows: an epoch is ~25 steps, so 40 steps cross it
	l, err := NewLoader(set, T, B, 42, true)
	if err != nil {
		t.Fatal(err)
	}
	crossShard := false
	for step := range int64(40) {
		for r := range B {
			w := l.Window(step*B + int64(r))
			if s, e := w*T, w*T+T; s < 700 && e >= 700 || s < 1000 && e >= 1000 {
				crossShard = true
			}
		}
		l.Batch(step, 0, B)
	}
	if epoch := 39 * B / l.NumWindows(); !crossShard || epoch != 1 {
		t.Fatalf("40 steps should cross a shard (%v) and an epoch boundary (epoch %d)", crossShard, epoch)
	}
	// A resumed run makes a new loader with the same settings: the order is a pure function
	// of (seed, step), so it serves the same batches.
	r, err := NewLoader(set, T, B, 42, true)
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(40); step < 80; step++ {
		if !slices.Equal(l.Batch(step, 0, B), r.Batch(step, 0, B)) {
			t.Fatalf("batch %d differs after resume", step)
		}
	}
	// Micro-batches (row ranges) together make up the batch.
	if joined := append(r.Batch(50, 0, 1), r.Batch(50, 1, B)...); !slices.Equal(joined, l.Batch(50, 0, B)) {
		t.Error("row ranges do not make up the batch")
	}
}

func TestLoaderEpochIsPermutation(t *testing.T) {
	set := shardFixture(t)
	l, _ := NewLoader(set, 16, 4, 7, true)
	n := l.NumWindows()
	for epoch := range int64(2) {
		seen := make([]int, n)
		covered := make([]bool, set.Len())
		for g := epoch * n; g < (epoch+1)*n; g++ {
			w := l.Window(g)
			seen[w]++
			for k := w * 16; k <= w*16+16; k++ {
				covered[k] = true
			}
		}
		for w, c := range seen {
			if c != 1 {
				t.Fatalf("epoch %d: window %d served %d times", epoch, w, c)
			}
		}
		// Every token (so every document) up to the last full window is served.
		for k := int64(0); k <= n*16; k++ {
			if !covered[k] {
				t.Fatalf("epoch %d: token %d never served", epoch, k)
			}
		}
	}
	// Different epochs use different orders.
	if l.Window(0) == l.Window(n) && l.Window(1) == l.Window(n+1) && l.Window(2) == l.Window(n+2) {
		t.Error("epochs 0 and 1 have the same order")
	}
}

func TestShardFormat(t *testing.T) {
	dir := t.TempDir()
	p16 := filepath.Join(dir, "a.bin")
	w, _ := CreateShard(p16, ShardVersion16)
	w.Write([]int{0, 1, 65535, 50256})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	v, n, err := ShardHeader(p16)
	if err != nil || v != 1 || n != 4 {
		t.Fatalf("header %d %d %v", v, n, err)
	}
	w, _ = CreateShard(filepath.Join(dir, "b.bin"), ShardVersion16)
	if err := w.Write([]int{70000}); err == nil {
		t.Error("id 70000 accepted in a uint16 shard")
	}
	w.Abort()
	w, _ = CreateShard(filepath.Join(dir, "c.bin"), ShardVersion32)
	w.Write([]int{70000, 3})
	w.Close()
	set, err := OpenShards([]string{filepath.Join(dir, "*.bin")}, false)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int32, 6)
	set.Read(got, 0)
	if !slices.Equal(got, []int32{0, 1, 65535, 50256, 70000, 3}) {
		t.Errorf("read %v", got)
	}
	set.Close()
}

// TestLLMCShardBytes checks our writer against the bytes llm.c's write_datafile produces
// (np.int32 header of 256: magic, version 1, count; then uint16 tokens), so shards move
// both ways.
func TestLLMCShardBytes(t *testing.T) {
	toks := []int{50256, 15496, 995, 0, 65535}
	want := make([]byte, 1024, 1024+2*len(toks))
	binary.LittleEndian.PutUint32(want[0:], 20240520)
	binary.LittleEndian.PutUint32(want[4:], 1)
	binary.LittleEndian.PutUint32(want[8:], uint32(len(toks)))
	for _, id := range toks {
		want = binary.LittleEndian.AppendUint16(want, uint16(id))
	}
	path := filepath.Join(t.TempDir(), "fineweb_val_000000.bin")
	w, _ := CreateShard(path, ShardVersion16)
	w.Write(toks)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatal("shard bytes differ from llm.c's format")
	}
	os.WriteFile(path, want, 0o644)
	s, err := OpenShard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dst := make([]int32, len(toks))
	s.Read(dst, 0)
	if dst[0] != 50256 || dst[4] != 65535 || s.Len() != 5 {
		t.Errorf("read %v", dst)
	}
}
