package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveListPrune(t *testing.T) {
	m := &Manager{Dir: t.TempDir(), KeepLast: 2, KeepEvery: 4}
	for step := int64(1); step <= 9; step++ {
		if _, err := m.Save(step, map[string][]byte{"a.bin": []byte{byte(step)}, "state.json": []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := m.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range all {
		names = append(names, filepath.Base(p))
	}
	want := "step-00000004 step-00000008 step-00000009"
	if strings.Join(names, " ") != want {
		t.Fatalf("kept %v, want %s (last 2 plus every 4th)", names, want)
	}
	b, err := Read(all[2], "a.bin")
	if err != nil || len(b) != 1 || b[0] != 9 {
		t.Fatalf("Read = %v, %v", b, err)
	}
}

func TestIncompleteAndCorruptCheckpoints(t *testing.T) {
	m := &Manager{Dir: t.TempDir()}
	if _, err := m.Save(1, map[string][]byte{"w": []byte("good")}); err != nil {
		t.Fatal(err)
	}
	// A crash mid-save leaves a folder without the marker; it must never be chosen.
	FaultHook = func(stage string) {
		if stage == "before-marker" {
			panic("killed")
		}
	}
	func() {
		defer func() { recover() }()
		m.Save(2, map[string][]byte{"w": []byte("half")})
	}()
	FaultHook = nil
	os.MkdirAll(filepath.Join(m.Dir, Name(3)), 0o755) // a stray folder without a marker
	latest, err := m.Latest()
	if err != nil || filepath.Base(latest) != Name(1) {
		t.Fatalf("Latest = %q, %v; want step 1", latest, err)
	}
	// Bytes changed on disk are detected.
	if err := os.WriteFile(filepath.Join(latest, "w"), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(latest, "w"); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("corrupted file read without error: %v", err)
	}
	if _, err := Step(filepath.Join(m.Dir, Name(3))); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("folder without marker: %v", err)
	}
}
