package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// TextReader streams plain text (plain, gzip or zstd). In whole-file mode the file is one
// document (Record 0); in line mode each non-blank line is a document (Record = line number).
type TextReader struct {
	file     string
	raw      *rawFile
	br       *bufio.Reader
	lines    bool
	done     bool
	line     int64
	problems *Problems
}

// OpenText opens a text shard; lines selects one document per line.
func OpenText(path string, lines bool, problems *Problems) (*TextReader, error) {
	raw, err := openRaw(path)
	if err != nil {
		return nil, err
	}
	return &TextReader{file: path, raw: raw, br: bufio.NewReaderSize(raw, 1<<16), lines: lines, problems: problems}, nil
}

func (t *TextReader) Close() error   { return t.raw.Close() }
func (t *TextReader) Offset() int64  { return t.raw.Offset() }
func (t *TextReader) Records() int64 { return t.line }

func (t *TextReader) Next() (Document, error) {
	if t.done {
		return Document{}, io.EOF
	}
	if !t.lines {
		t.done = true
		var b strings.Builder
		_, err := io.Copy(&b, t.br)
		var bm errBrokenMember
		if errors.As(err, &bm) {
			t.problems.Add(Problem{File: t.file, Kind: "truncated_compressed", Msg: bm.Error() + "; kept the text before it"})
		} else if err != nil {
			return Document{}, fmt.Errorf("%s: %w", t.file, err)
		}
		t.line = 1
		return Document{Text: b.String(), Shard: t.file}, nil
	}
	for {
		s, err := t.br.ReadString('\n')
		if s == "" && err != nil {
			var bm errBrokenMember
			if errors.As(err, &bm) {
				t.problems.Add(Problem{File: t.file, Record: t.line + 1, Kind: "truncated_compressed", Msg: bm.Error()})
				continue
			}
			t.done = true
			if err == io.EOF {
				return Document{}, io.EOF
			}
			return Document{}, fmt.Errorf("%s:%d: %w", t.file, t.line, err)
		}
		t.line++
		if s = strings.TrimRight(s, "\r\n"); strings.TrimSpace(s) != "" {
			return Document{Text: s, Shard: t.file, Record: t.line}, nil
		}
	}
}
