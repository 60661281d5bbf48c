package corpus

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// DroppedSample is a document a filter dropped, kept for inspection.
type DroppedSample struct {
	Reason string `json:"reason"`
	Where  string `json:"where"`
	URL    string `json:"url,omitempty"`
	Text   string `json:"text"`
}

// droppedFiltered reports whether reason comes from the filters (the stage that reads
// text); duplicates are dropped in stage 3, from cached tokens.
func (p *pipeline) droppedFiltered(reason string) bool {
	return reason != "exact_duplicate" && reason != "near_duplicate"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func writeSamples(path string, samples []DroppedSample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(path, b.Bytes())
}
