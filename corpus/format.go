package corpus

import (
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/data"
)

// ReadOptions configures the shard readers.
type ReadOptions struct {
	// Format forces a format for every file; "" or "auto" detects it per file.
	Format string
	JSONL  JSONLOptions
	// Problems receives bad-input reports; may be nil.
	Problems *Problems
	// Progress, if set, is called by Documents after each document with the bytes (as
	// stored, compressed or not) of every shard consumed so far, for a progress bar.
	Progress func(bytesRead int64)
}

// DetectFormat guesses a shard's format from its name, ignoring .gz/.zst/.zstd:
// *.warc, *.wet, *.warc.wet -> warc; *.jsonl, *.json, *.ndjson -> jsonl; *.bin -> tokens;
// anything else -> text.
func DetectFormat(path string) string {
	name := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		name = strings.TrimSuffix(name, ext)
	}
	switch filepath.Ext(name) {
	case ".warc", ".wet", ".arc":
		return data.FormatWARC
	case ".jsonl", ".json", ".ndjson":
		return data.FormatJSONL
	case ".bin":
		return data.FormatTokens
	}
	return data.FormatText
}

// OpenDocs opens one raw shard as a stream of documents.
func OpenDocs(path string, opts ReadOptions) (DocReader, error) {
	format := opts.Format
	if format == data.FormatAuto || format == "auto" {
		format = DetectFormat(path)
	}
	switch format {
	case data.FormatWARC:
		w, err := OpenWARC(path, opts.Problems)
		if err != nil {
			return nil, err
		}
		return warcDocs{w}, nil
	case data.FormatJSONL:
		return OpenJSONL(path, opts.JSONL, opts.Problems)
	case data.FormatText:
		return OpenText(path, false, opts.Problems)
	case data.FormatLines:
		return OpenText(path, true, opts.Problems)
	}
	return nil, fmt.Errorf("%s: format %q is not a raw text format; use one of warc, jsonl, text, lines", path, format)
}

// Documents streams the documents of every shard that specs name (files, globs or
// folders, in sorted order), one shard open at a time. Bad input goes to opts.Problems;
// an error (a shard that cannot be opened or read) ends the sequence.
func Documents(specs []string, opts ReadOptions) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		files, err := data.Expand(specs)
		if err != nil {
			yield(Document{}, err)
			return
		}
		var done int64 // bytes of the shards finished
		for _, f := range files {
			r, err := OpenDocs(f, opts)
			if err != nil {
				yield(Document{}, err)
				return
			}
			for {
				d, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					r.Close()
					yield(Document{}, fmt.Errorf("%s: %w", f, err))
					return
				}
				if opts.Progress != nil {
					opts.Progress(done + r.Offset())
				}
				if !yield(d, nil) {
					r.Close()
					return
				}
			}
			done += r.Offset()
			r.Close()
		}
	}
}
