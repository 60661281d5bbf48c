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

// TestCleanLeftovers: start-up cleaning removes an interrupted save's temporary folder and an
// interrupted prune's folder (pruning removes the manifest first, so such a folder is plainly
// incomplete), recovers a complete temporary folder whose step folder is missing, and touches
// nothing else.
func TestCleanLeftovers(t *testing.T) {
	m := &Manager{Dir: t.TempDir(), KeepLast: 1}
	save := func(step int64) {
		if _, err := m.Save(step, map[string][]byte{"w": []byte{byte(step)}, "x": []byte("data")}); err != nil {
			t.Fatal(err)
		}
	}
	save(1)
	// Pruning step 1 while saving step 2 is killed after the manifest went.
	FaultHook = func(stage string) {
		if stage == "pruning:"+Name(1) {
			panic("killed")
		}
	}
	func() {
		defer func() { recover() }()
		save(2)
	}()
	if _, err := os.Stat(filepath.Join(m.Dir, Name(1), "w")); err != nil {
		t.Fatalf("the interrupted prune should leave step 1's files: %v", err)
	}
	if _, err := Step(filepath.Join(m.Dir, Name(1))); err == nil {
		t.Fatal("a half-pruned folder still has its manifest: pruning must remove it first")
	}
	// A save killed before its marker, and one killed between removing a stale step folder
	// and the rename (its temporary folder is complete; step 4 has no complete folder). A
	// panic would run Save's deferred clean-up, so these are made as a kill leaves them.
	half := filepath.Join(m.Dir, ".tmp-"+Name(3)+"-123")
	os.MkdirAll(half, 0o755)
	os.WriteFile(filepath.Join(half, "w"), []byte{3}, 0o644)
	other := &Manager{Dir: t.TempDir()}
	if _, err := other.Save(4, map[string][]byte{"w": []byte{4}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(other.Dir, Name(4)), filepath.Join(m.Dir, ".tmp-"+Name(4)+"-456")); err != nil {
		t.Fatal(err)
	}
	FaultHook = nil
	os.MkdirAll(filepath.Join(m.Dir, Name(4)), 0o755) // incomplete, as a crash mid-rename could leave
	// Things that are not leftovers of a save: never removed.
	os.MkdirAll(filepath.Join(m.Dir, "notes"), 0o755)
	os.MkdirAll(filepath.Join(m.Dir, "step-best"), 0o755)
	os.WriteFile(filepath.Join(m.Dir, "step-00000009"), []byte("a file"), 0o644)

	done, err := m.Clean()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range must(os.ReadDir(m.Dir)) {
		left = append(left, e.Name())
	}
	if got, want := strings.Join(left, " "), "notes step-00000002 step-00000004 step-00000009 step-best"; got != want {
		t.Fatalf("after Clean (%v): %s, want %s", done, got, want)
	}
	if len(done) != 3 || !strings.Contains(strings.Join(done, " "), "recovered "+Name(4)) {
		t.Errorf("Clean reported %v, want two removals and step 4 recovered", done)
	}
	if b, err := Read(filepath.Join(m.Dir, Name(4)), "w"); err != nil || b[0] != 4 {
		t.Errorf("recovered step 4: %v, %v", b, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Resolve takes a checkpoint folder as it is and a run folder as its newest complete checkpoint,
// and says what it wanted otherwise.
func TestResolve(t *testing.T) {
	m := &Manager{Dir: t.TempDir()}
	for step := int64(1); step <= 2; step++ {
		if _, err := m.Save(step, map[string][]byte{"w": []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(m.Dir, Name(3)), 0o755) // incomplete: no manifest
	for path, want := range map[string]string{m.Dir: Name(2), filepath.Join(m.Dir, Name(1)): Name(1)} {
		if got, err := Resolve(path); err != nil || filepath.Base(got) != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", path, got, err, want)
		}
	}
	file := filepath.Join(m.Dir, Name(1), "w")
	for path, want := range map[string]string{t.TempDir(): "holds no complete step-* checkpoint", file: "is a file", filepath.Join(m.Dir, "nosuch"): "no such file"} {
		if _, err := Resolve(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%s): %v, want an error saying %q", path, err, want)
		}
	}
}
