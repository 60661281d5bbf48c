package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// onlyFile fails the test unless dir holds exactly the one file name: no temporary file
// may stay behind after a commit or a failed write.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Fatalf("folder holds %v, want only %s", names, name)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	for _, want := range []string{"first", "second, longer"} {
		if err := WriteFile(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	onlyFile(t, dir, "a.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o644 != 0o644 {
		t.Errorf("mode %v: the file must be readable like one from os.Create", st.Mode())
	}
}

// TestFailedWriteKeepsPrevious injects a failure half way through a write: the previous
// file must stay byte for byte, and the temporary file must be gone.
func TestFailedWriteKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shard.bin")
	if err := WriteFile(path, []byte("previous")); err != nil {
		t.Fatal(err)
	}
	injected := errors.New("disk full (injected)")
	err := Write(path, func(w io.Writer) error {
		// More than the buffer, so part of it reaches the temporary file.
		if _, err := w.Write(make([]byte, 3<<20)); err != nil {
			return err
		}
		return injected
	})
	if !errors.Is(err, injected) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want the injected one, naming %s", err, path)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "previous" {
		t.Fatalf("after a failed write the file reads %q, %v; want the previous contents", got, err)
	}
	onlyFile(t, dir, "shard.bin")
}

// TestFailedCommitKeepsPrevious makes the rename fail (the target is a folder): the
// error names the path and no temporary file is left.
func TestFailedCommitKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want a failed rename naming %s", err, path)
	}
	onlyFile(t, dir, "out")
	if _, err := os.Stat(filepath.Join(path, "keep")); err != nil {
		t.Fatal(err)
	}
}

func TestAbortAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("head"), 0); err != nil {
		t.Fatal(err)
	}
	left, err := Leftovers(path)
	if err != nil || len(left) != 1 || left[0] != f.Name() {
		t.Fatalf("Leftovers = %v, %v; want the open temporary file %s", left, err, f.Name())
	}
	f.Abort()
	f.Abort() // a second Abort, as a deferred one after an explicit one, is harmless
	if err := f.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("aborted file exists at %s: %v", path, err)
	}
	if left, _ := Leftovers(path); len(left) != 0 {
		t.Fatalf("Abort left %v", left)
	}
}
