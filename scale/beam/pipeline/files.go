package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs://
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"  // s3://
	"github.com/golem-ml/golem/corpus"
)

// Local paths go through golem's own file handling (atomic shard writes, data.Expand);
// anything with a scheme (gs://, s3://, ...) through Beam's filesystems: inputs are
// copied to a local temporary file before reading (golem's readers seek in gzip files to
// skip corrupt members), outputs are written locally and then copied.

func isRemote(path string) bool { return strings.Contains(path, "://") }

// listInputs numbers the input shards as corpus.Prepare does: local specs through
// corpus.InputFiles; remote ones are globs (a folder, ending in /, means every file in it).
func listInputs(ctx context.Context, specs []string) ([]string, error) {
	var local, files []string
	for _, s := range specs {
		if !isRemote(s) {
			local = append(local, s)
			continue
		}
		glob := s
		if strings.HasSuffix(glob, "/") {
			glob += "*"
		}
		fs, err := filesystem.New(ctx, glob)
		if err != nil {
			return nil, fmt.Errorf("inputs: %s: %w", s, err)
		}
		found, err := fs.List(ctx, glob)
		fs.Close()
		if err != nil {
			return nil, fmt.Errorf("inputs: listing %s: %w", s, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("inputs: %s: no such files", s)
		}
		files = append(files, found...)
	}
	if len(local) > 0 {
		found, err := corpus.InputFiles(local)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	sort.Strings(files)
	return files, nil
}

// localCopy returns a local path holding input path, and a function to remove the copy.
func localCopy(ctx context.Context, path string) (string, func(), error) {
	if !isRemote(path) {
		return path, func() {}, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return "", nil, err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return "", nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer r.Close()
	dir, err := os.MkdirTemp("", "golem-beam-in-")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.RemoveAll(dir) }
	local := filepath.Join(dir, filepath.Base(path)) // keeps the name: it picks the format
	f, err := os.Create(local)
	if err == nil {
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		done()
		return "", nil, fmt.Errorf("copying %s to %s: %w", path, local, err)
	}
	return local, done, nil
}

// outputPath returns where to write file name of out: in out itself when it is local,
// else in a local temporary folder, and publish copies it to out then.
func outputPath(out, name string) (local string, publish func(ctx context.Context) error, err error) {
	if !isRemote(out) {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", nil, fmt.Errorf("creating output folder: %w", err)
		}
		return filepath.Join(out, name), func(context.Context) error { return nil }, nil
	}
	dir, err := os.MkdirTemp("", "golem-beam-out-")
	if err != nil {
		return "", nil, err
	}
	local = filepath.Join(dir, name)
	return local, func(ctx context.Context) error {
		defer os.RemoveAll(dir)
		return copyTo(ctx, local, strings.TrimSuffix(out, "/")+"/"+name)
	}, nil
}

func copyTo(ctx context.Context, local, dest string) error {
	fs, err := filesystem.New(ctx, dest)
	if err != nil {
		return err
	}
	defer fs.Close()
	src, err := os.Open(local)
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := fs.OpenWrite(ctx, dest)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if _, err := io.Copy(w, src); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	return nil
}

// readOutput reads file name of out (local or remote).
func readOutput(ctx context.Context, out, name string) ([]byte, error) {
	if !isRemote(out) {
		return os.ReadFile(filepath.Join(out, name))
	}
	path := strings.TrimSuffix(out, "/") + "/" + name
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	return filesystem.Read(ctx, fs, path)
}
