// Package atomicfile writes files so that a reader sees the old file or the whole new one,
// never a part: the bytes go to a temporary file beside the target, which is synced,
// closed and renamed over the target, and then the folder is synced so the rename itself
// survives a power cut. A failed write removes the temporary file and leaves the previous
// file where it was.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name beside Path. Write to it (it is an
// *os.File, so WriteAt works too), then Commit to put it in place or Abort to drop it.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a new file that will replace path on Commit. The temporary file sits in
// the same folder, so the rename never crosses file systems, and is named
// .BASE.tmp-PID-N (see Leftovers), so two processes writing the same path do not collide.
// Its mode is 0666 less the umask, as os.Create gives.
func Create(path string) (*File, error) {
	for {
		tmp := fmt.Sprintf("%s-%d-%d", tempPrefix(path), os.Getpid(), rand.Uint32())
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating a temporary file for %s: %w", path, err)
		}
		return &File{File: f, path: path}, nil
	}
}

func tempPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

// Leftovers lists the temporary files that writers of path killed before Commit or Abort
// left behind, for a caller that cleans a folder.
func Leftovers(path string) ([]string, error) {
	return filepath.Glob(tempPrefix(path) + "-*")
}

// Path is where the file will be once committed.
func (f *File) Path() string { return f.path }

// Commit syncs and closes the file, renames it over Path and syncs the folder. On any
// error the temporary file is removed and Path is left as it was.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("committing %s: already committed or aborted", f.path)
	}
	f.done = true
	tmp := f.Name()
	if err := f.Sync(); err != nil {
		f.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("syncing %s: %w", f.path, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("closing %s: %w", f.path, err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming into %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort closes and removes the temporary file; after Commit it does nothing. Deferring it
// right after Create cleans up every early return.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// Write creates path through a buffered writer: fill writes the contents, and the file
// replaces path only when fill and every write succeed.
func Write(path string, fill func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile replaces path with b.
func WriteFile(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// SyncDir fsyncs a folder, so that files created or renamed in it stay after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening folder %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}
