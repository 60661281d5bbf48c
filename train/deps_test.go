package train

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTrainLinksNoCorpusCode: training reads raw text only through data.TextSource, so the
// readers, filters and dedup of package corpus (WARC, HTML, MinHash, zstd) stay out of
// every program that imports train without asking for them.
func TestTrainLinksNoCorpusCode(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the imports")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/golem-ml/golem/corpus" || strings.HasPrefix(pkg, "github.com/klauspost/compress") {
			t.Errorf("train links %s; pass raw-text reading in as a data.TextSource instead of importing it", pkg)
		}
	}
}
