package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// JSONLOptions says which fields of a JSONL record hold what. Paths may be dotted to reach
// into objects ("metadata.url"). Empty fields take the defaults below.
type JSONLOptions struct {
	// TextField holds the document text; default "text".
	TextField string
	// IDFields, URLFields, DateFields and LangFields are tried in order; the first present wins.
	IDFields, URLFields, DateFields, LangFields []string
}

// Defaults cover FineWeb, Dolma, RedPajama and C4 records.
var (
	defaultIDFields   = []string{"id", "doc_id", "meta.id"}
	defaultURLFields  = []string{"url", "metadata.url", "meta.url", "metadata.warc_url"}
	defaultDateFields = []string{"date", "timestamp", "created", "metadata.warc_date", "meta.timestamp"}
	defaultLangFields = []string{"language", "lang", "metadata.language", "meta.language"}
)

func (o JSONLOptions) withDefaults() JSONLOptions {
	if o.TextField == "" {
		o.TextField = "text"
	}
	if o.IDFields == nil {
		o.IDFields = defaultIDFields
	}
	if o.URLFields == nil {
		o.URLFields = defaultURLFields
	}
	if o.DateFields == nil {
		o.DateFields = defaultDateFields
	}
	if o.LangFields == nil {
		o.LangFields = defaultLangFields
	}
	return o
}

// JSONLReader streams documents from a JSON-lines file, plain, gzip or zstd. A line that
// is not a JSON object, or lacks a string text field, is reported as "file:line: problem"
// and skipped. Blank lines are skipped silently.
type JSONLReader struct {
	file     string
	opts     JSONLOptions
	raw      *rawFile
	br       *bufio.Reader
	buf      []byte
	problems *Problems
	line     int64
	obj      jsonObject
}

// OpenJSONL opens a JSONL shard. problems may be nil.
func OpenJSONL(path string, opts JSONLOptions, problems *Problems) (*JSONLReader, error) {
	raw, err := openRaw(path)
	if err != nil {
		return nil, err
	}
	return &JSONLReader{file: path, opts: opts.withDefaults(), raw: raw, br: bufio.NewReaderSize(raw, 1<<16), problems: problems}, nil
}

func (j *JSONLReader) Close() error   { return j.raw.Close() }
func (j *JSONLReader) Offset() int64  { return j.raw.Offset() }
func (j *JSONLReader) Records() int64 { return j.line }

func (j *JSONLReader) report(kind, format string, args ...any) {
	j.problems.Add(Problem{File: j.file, Record: j.line, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// readLine returns the next line (without "\n") in a buffer reused by the next call.
func (j *JSONLReader) readLine() ([]byte, error) {
	j.buf = j.buf[:0]
	for {
		chunk, err := j.br.ReadSlice('\n')
		j.buf = append(j.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(j.buf) > 0 {
				return j.buf, nil
			}
			return j.buf, err
		}
		return j.buf[:len(j.buf)-1], nil
	}
}

// Next returns the next document or io.EOF.
func (j *JSONLReader) Next() (Document, error) {
	for {
		line, err := j.readLine()
		if err != nil {
			var bm errBrokenMember
			if errors.As(err, &bm) {
				j.line++
				j.report("truncated_compressed", "line dropped: %v", bm)
				continue
			}
			if err == io.EOF {
				return Document{}, io.EOF
			}
			return Document{}, fmt.Errorf("%s:%d: %w", j.file, j.line, err)
		}
		j.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		rec := &j.obj
		if err := rec.scan(line); err != nil {
			j.report("bad_json", "not a JSON object: %v", err)
			continue
		}
		raw, ok := rec.get(j.opts.TextField)
		if !ok {
			j.report("no_text", "no field %q; set data.text_field (prepare --text-field) to the field holding the text", j.opts.TextField)
			continue
		}
		text, ok := jsonString(raw)
		if !ok {
			j.report("no_text", "field %q is not a string", j.opts.TextField)
			continue
		}
		return Document{
			Text: text, Shard: j.file, Record: j.line,
			ID: firstString(rec, j.opts.IDFields), URL: firstString(rec, j.opts.URLFields),
			Date: firstString(rec, j.opts.DateFields), Lang: firstString(rec, j.opts.LangFields),
		}, nil
	}
}

// firstString returns the first of paths that holds a string or number, as text.
func firstString(rec *jsonObject, paths []string) string {
	for _, p := range paths {
		v, ok := rec.get(p)
		if !ok || len(v) == 0 {
			continue
		}
		switch v[0] {
		case '"':
			if s, ok := jsonString(v); ok {
				return s
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return string(v)
		}
	}
	return ""
}
