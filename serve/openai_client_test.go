package serve

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The official openai npm client (serve/testdata/openai-client, pinned by its package-lock.json)
// drives the server: models, completions, echo + logprobs scoring, top logprobs, stop strings,
// streaming chat, a bad request and concurrent requests. It needs node and npm (installed from
// the npm registry with `npm ci` on first use); without node it is skipped.
func TestOpenAIClient(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the openai npm client test")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: skipping the openai npm client test (apt-get install nodejs npm)")
	}
	dir := filepath.Join("testdata", "openai-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		npm.Dir = dir
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	_, _, _, hs := newTestServer(t, Options{APIKey: "test-key", ModelName: "aidreams260K", MaxBatch: 4})
	cmd := exec.Command("node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOLEM_BASE_URL="+hs.URL+"/v1", "GOLEM_API_KEY=test-key", "GOLEM_MODEL=aidreams260K")
	out, err := cmd.CombinedOutput()
	t.Logf("node client.mjs:\n%s", out)
	if err != nil || !strings.Contains(string(out), "all checks passed") {
		t.Fatalf("openai client checks failed: %v", err)
	}
}
