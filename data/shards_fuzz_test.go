package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/internal/fuzzseeds"
)

// FuzzShardHeader: any bytes behind a .bin name are refused with the file named, or read as
// a shard whose header and size agree. Seeds: testdata/fuzz/FuzzShardHeader at the root.
func FuzzShardHeader(f *testing.F) {
	fuzzseeds.Add(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.bin")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		version, n, herr := ShardHeader(path)
		s, err := OpenShard(path)
		if (err == nil) != (herr == nil) {
			t.Fatalf("ShardHeader says %v, OpenShard says %v", herr, err)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		defer s.Close()
		if s.Len() != n || s.Version != version {
			t.Fatalf("header %d tokens v%d, shard %d v%d", n, version, s.Len(), s.Version)
		}
		dst := make([]int32, n)
		s.Read(dst, 0)
		for _, v := range dst {
			if v < 0 && version == ShardVersion16 {
				t.Fatal("uint16 token read as negative")
			}
		}
	})
}
