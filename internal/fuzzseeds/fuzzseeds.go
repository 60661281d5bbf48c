// Package fuzzseeds loads the seed corpora of golem's fuzz targets. Seeds live at the
// repository root in testdata/fuzz/<FuzzName>/, one raw input per file, and run as ordinary
// tests; `go test -fuzz` explores further and saves failures beside the package under test.
package fuzzseeds

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Add adds every file of testdata/fuzz/<f.Name()>/ as a []byte seed; a missing folder fails.
func Add(f *testing.F) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
