package inference

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGeneratingCodeLinksNoTraining: the commands and packages that only use a model (this
// one, generate, serve, chattemplate, cmd/sample, cmd/chat, cmd/serve) do not link the training
// code; a chat template or an opened checkpoint that reaches into train or finetune would.
func TestGeneratingCodeLinksNoTraining(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the imports")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "../generate", "../serve", "../chattemplate",
		"../cmd/sample", "../cmd/chat", "../cmd/serve").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch strings.TrimPrefix(pkg, "github.com/golem-ml/golem/") {
		case "train", "finetune", "data", "corpus":
			t.Errorf("generating code links %s; move what it needs below inference (as chattemplate was)", pkg)
		}
	}
}
