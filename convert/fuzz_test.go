package convert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/golem-ml/golem/internal/fuzzseeds"
)

// FuzzLlama2CHeader feeds arbitrary bytes to the llama2.c header check. Seeds live in
// testdata/fuzz/FuzzLlama2CHeader/ at the repository root and run as ordinary tests. What
// the check accepts must lay out exactly the bytes the file holds, with no panic and no
// work proportional to the header's claims.
func FuzzLlama2CHeader(f *testing.F) {
	fuzzseeds.Add(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, head, err := readLlama2CHeader(b, "fuzz.bin")
		if err != nil {
			return
		}
		n := head
		for _, x := range llama2cLayout(h) {
			size := 4
			for _, d := range x.dims {
				size *= d
			}
			n += size
		}
		if n != len(b) {
			t.Fatalf("header %+v accepted for %d bytes, lays out %d", h, len(b), n)
		}
		checkPieces(h.config(), llama2cPieces(h))
	})
}

// The well-formed seeds must be accepted, or the fuzzer would only explore error paths.
func TestLlama2CSeedsAccepted(t *testing.T) {
	for _, name := range []string{"v0-shared.bin", "v0-unshared.bin", "v1-shared.bin"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fuzz", "FuzzLlama2CHeader", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := readLlama2CHeader(b, name); err != nil {
			t.Error(err)
		}
	}
}
