package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/htmlindex"
)

// WARCRecord is one record of a WARC or WET file. Body is the record block (for WET
// `conversion` records, the page text; for `response` records, the HTTP message).
type WARCRecord struct {
	Type        string // WARC-Type: warcinfo, conversion, response, request, resource, ...
	URI         string // WARC-Target-URI
	Date        string // WARC-Date
	ID          string // WARC-Record-ID
	Lang        string // WARC-Identified-Content-Language (WET), e.g. "spa" or "eng,fra"
	ContentType string // Content-Type of the block
	Header      map[string]string
	Body        []byte
	Number      int64 // 1-based position in the file
}

// MaxWARCRecordBytes bounds a record body (64 MiB); larger records are skipped and reported.
const MaxWARCRecordBytes = 64 << 20

// WARCReader streams the records of a WARC/WET file, plain or gzip (one member per record
// or one for the file). A broken header or truncated member is reported to Problems as
// "file:record: problem" and the reader skips to the next "WARC/1.x" line.
type WARCReader struct {
	file     string
	raw      *rawFile
	src      *pushback // raw, after bytes handed back by a resynchronisation
	br       *bufio.Reader
	problems *Problems
	n        int64
	resync   bool
	broken   error // a broken gzip member met while peeking past a record (see atBoundary)
}

// OpenWARC opens a WARC or WET file. problems may be nil.
func OpenWARC(path string, problems *Problems) (*WARCReader, error) {
	raw, err := openRaw(path)
	if err != nil {
		return nil, err
	}
	src := &pushback{r: raw}
	return &WARCReader{file: path, raw: raw, src: src, br: bufio.NewReaderSize(src, 1<<16), problems: problems}, nil
}

// pushback reads pending bytes, then r.
type pushback struct {
	pending  []byte
	r        io.Reader
	fresh    int64 // bytes read from r
	reparsed int64 // bytes handed back to be read again
}

func (p *pushback) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	n, err := p.r.Read(b)
	p.fresh += int64(n)
	return n, err
}

func (w *WARCReader) Close() error   { return w.raw.Close() }
func (w *WARCReader) Offset() int64  { return w.raw.Offset() }
func (w *WARCReader) Records() int64 { return w.n }

func (w *WARCReader) report(kind, format string, args ...any) {
	w.problems.Add(Problem{File: w.file, Record: w.n, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// readLine returns one line without its line ending. Lines over 64 KiB are cut (headers
// never need more).
func (w *WARCReader) readLine() (string, error) {
	line, err := w.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s := string(line)
		for err == bufio.ErrBufferFull {
			_, err = w.br.ReadSlice('\n')
		}
		return strings.TrimRight(s, "\r\n"), err
	}
	if err != nil && len(line) == 0 {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// Next returns the next record or io.EOF.
func (w *WARCReader) Next() (*WARCRecord, error) {
	for {
		rec, err := w.next()
		if err == nil || err == io.EOF {
			return rec, err
		}
		if err == errSkipped {
			continue
		}
		var bm errBrokenMember
		if errors.As(err, &bm) {
			w.report("truncated_compressed", "record dropped: %v", bm)
		} else if errors.Is(err, errBadHeader) {
			w.report("bad_warc_header", "%v; skipping to the next record", err)
		} else {
			return nil, fmt.Errorf("%s:%d: %w", w.file, w.n, err)
		}
		w.resync = true
	}
}

var (
	errBadHeader = errors.New("broken WARC header")
	errSkipped   = errors.New("record skipped") // already reported
)

func (w *WARCReader) next() (*WARCRecord, error) {
	if bm := w.broken; bm != nil {
		// What is buffered is the start of a record whose gzip member broke (see atBoundary).
		w.broken = nil
		w.br.Discard(w.br.Buffered())
		w.n++
		return nil, bm
	}
	// Find the version line, skipping blank lines (the CRLF CRLF after each block) or,
	// after a problem, anything up to the next record.
	for {
		line, err := w.readLine()
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, err
		}
		if strings.HasPrefix(line, "WARC/1.") || strings.HasPrefix(line, "WARC/0.") {
			break
		}
		if line == "" || w.resync {
			continue
		}
		w.n++
		w.resync = true
		return nil, fmt.Errorf("%w: expected a \"WARC/1.x\" version line, found %.40q", errBadHeader, line)
	}
	w.resync = false
	w.n++
	rec := &WARCRecord{Number: w.n, Header: make(map[string]string, 12)}
	length := int64(-1)
	for {
		line, err := w.readLine()
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%w: file ends inside the header", errBadHeader)
			}
			return nil, err
		}
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: line %.40q is not \"Name: value\"", errBadHeader, line)
		}
		v = strings.TrimSpace(v)
		rec.Header[k] = v
		switch strings.ToLower(k) {
		case "warc-type":
			rec.Type = v
		case "warc-target-uri":
			rec.URI = strings.Trim(v, "<>")
		case "warc-date":
			rec.Date = v
		case "warc-record-id":
			rec.ID = v
		case "warc-identified-content-language":
			rec.Lang = v
		case "content-type":
			rec.ContentType = v
		case "content-length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: Content-Length %q is not a byte count", errBadHeader, v)
			}
			length = n
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("%w: no Content-Length", errBadHeader)
	}
	return w.readBlock(rec, length)
}

// readBlock reads a record's block of length bytes and checks that the record ends where
// its Content-Length says: followed by the blank lines that close a record and then the next
// record's "WARC/" line or the end of the file. A length that disagrees with the boundary
// (too short, too long, or running past the end of the file) makes the record a bad record
// of its file: it is reported and skipped, never emitted cut or padded, and reading resumes
// at the next "WARC/" line, also when that line lies inside the bytes the wrong length
// claimed. Blocks over MaxWARCRecordBytes are skipped and reported.
func (w *WARCReader) readBlock(rec *WARCRecord, length int64) (*WARCRecord, error) {
	// At most MaxWARCRecordBytes are held: past that the block is discarded unread.
	body, err := io.ReadAll(io.LimitReader(w.br, min(length, MaxWARCRecordBytes)))
	if err != nil {
		var bm errBrokenMember
		if errors.As(err, &bm) {
			return nil, bm
		}
		return nil, err
	}
	tooLarge := length > MaxWARCRecordBytes && int64(len(body)) == MaxWARCRecordBytes
	if tooLarge {
		n, err := io.CopyN(io.Discard, w.br, length-MaxWARCRecordBytes)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == nil && w.atBoundary() {
			w.report("record_too_large", "%s record of %d bytes is over the %d-byte limit; skipped", rec.Type, length, MaxWARCRecordBytes)
			return nil, errSkipped
		}
		w.report("bad_content_length", "%s record: Content-Length %d runs past the end of the file (%d bytes follow its header); skipped with the %d bytes after its first %d",
			rec.Type, length, int64(len(body))+n, n, MaxWARCRecordBytes)
	} else if int64(len(body)) < length {
		w.report("bad_content_length", "%s record: Content-Length %d runs past the end of the file (%d bytes follow its header); skipped", rec.Type, length, len(body))
	} else if w.atBoundary() {
		rec.Body = body
		return rec, nil
	} else {
		w.report("bad_content_length", "%s record: Content-Length %d does not end at a record boundary (no \"WARC/\" line follows it); skipped", rec.Type, length)
	}
	// Resume at the first "WARC/" line the wrong length swallowed, if any, else at the next
	// one in the stream. Bytes read again are bounded (twice the file's bytes, plus one
	// block), so records that each claim the rest of the file cannot make reading quadratic.
	if i := bytes.Index(body, []byte("\nWARC/")); i >= 0 && w.broken == nil {
		back := body[i+1 : len(body) : len(body)]
		if w.src.reparsed+int64(len(back)) > 2*w.src.fresh+MaxWARCRecordBytes {
			w.report("bad_content_length", "too many records with a wrong Content-Length: the records inside the bytes the last one claimed are skipped with it")
		} else {
			w.src.reparsed += int64(len(back))
			buffered, _ := w.br.Peek(w.br.Buffered())
			w.src.pending = append(append(back, buffered...), w.src.pending...)
			w.br.Reset(w.src)
		}
	}
	w.resync = true
	return nil, errSkipped
}

// atBoundary reports whether the stream is at the end of a record: CR/LF bytes, then the
// next record's "WARC/" line or the end of the file.
func (w *WARCReader) atBoundary() bool {
	ahead, err := w.br.Peek(64)
	var bm errBrokenMember
	if errors.As(err, &bm) {
		// Peek hands over (and bufio forgets) the error of a gzip member that breaks within
		// these bytes: the next call of next drops them and reports it.
		w.broken = bm
	}
	rest := bytes.TrimLeft(ahead, "\r\n")
	return bytes.HasPrefix(rest, []byte("WARC/")) || err != nil && bytes.HasPrefix([]byte("WARC/"), rest)
}

// warcDocs turns WARC/WET records into documents: WET `conversion` records as they are and
// `response` records whose HTTP payload is HTML (reduced to text, see HTMLText) or plain
// text. Other records (warcinfo, request, metadata, resource: a crawler's own log and
// arguments files are `resource` records) are not web text and are skipped.
type warcDocs struct {
	*WARCReader
}

func (d warcDocs) Next() (Document, error) {
	for {
		rec, err := d.WARCReader.Next()
		if err != nil {
			return Document{}, err
		}
		text, ok := d.text(rec)
		if !ok {
			continue
		}
		return Document{Text: text, Shard: d.file, Record: rec.Number, ID: rec.ID, URL: rec.URI, Date: rec.Date, Lang: rec.Lang}, nil
	}
}

func (d warcDocs) Close() error { return d.WARCReader.Close() }

func (d warcDocs) text(rec *WARCRecord) (string, bool) {
	switch rec.Type {
	case "conversion":
		return string(rec.Body), true
	case "response":
		if !strings.HasPrefix(rec.ContentType, "application/http") {
			return "", false
		}
		ctype, body, err := httpPayload(rec.Body)
		if err != nil {
			d.report("bad_http", "response for %s: %v; skipped", rec.URI, err)
			return "", false
		}
		body = toUTF8(ctype, body)
		switch {
		case strings.Contains(ctype, "html"):
			return HTMLText(body), true
		case strings.HasPrefix(ctype, "text/plain"):
			return string(body), true
		}
	}
	return "", false
}

// toUTF8 decodes a body in the charset its Content-Type names (e.g. windows-1252,
// shift_jis) to UTF-8. Unknown or absent charsets leave it as it is.
func toUTF8(ctype string, body []byte) []byte {
	_, cs, ok := strings.Cut(ctype, "charset=")
	if !ok {
		return body
	}
	cs = strings.Trim(strings.TrimSpace(strings.SplitN(cs, ";", 2)[0]), `"'`)
	if cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
		return body
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}

// httpPayload splits an HTTP response into its content type and body, undoing chunked
// transfer encoding. Non-2xx responses are refused.
func httpPayload(msg []byte) (ctype string, body []byte, err error) {
	head, rest, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		if head, rest, ok = bytes.Cut(msg, []byte("\n\n")); !ok {
			return "", nil, fmt.Errorf("no end of HTTP headers")
		}
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || !strings.HasPrefix(status[0], "HTTP/") {
		return "", nil, fmt.Errorf("bad status line %.40q", lines[0])
	}
	if status[1] != "200" {
		return "", nil, fmt.Errorf("status %s", status[1])
	}
	chunked, gz := false, false
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-type":
			ctype = strings.ToLower(v)
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(v), "chunked")
		case "content-encoding":
			switch e := strings.ToLower(v); e {
			case "", "identity":
			case "gzip", "x-gzip":
				gz = true
			default:
				return "", nil, fmt.Errorf("content-encoding %s is not supported", e)
			}
		}
	}
	if chunked {
		if rest, err = dechunk(rest); err != nil {
			return "", nil, err
		}
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(rest))
		if err != nil {
			return "", nil, fmt.Errorf("gzip body: %w", err)
		}
		if rest, err = io.ReadAll(io.LimitReader(zr, MaxWARCRecordBytes)); err != nil {
			return "", nil, fmt.Errorf("gzip body: %w", err)
		}
	}
	return ctype, rest, nil
}

func dechunk(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte("\n"))
		if !ok {
			return out, nil
		}
		sz := strings.TrimSpace(strings.SplitN(string(line), ";", 2)[0])
		n, err := strconv.ParseInt(sz, 16, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad chunk size %q", sz)
		}
		if n == 0 {
			return out, nil
		}
		if int64(len(rest)) < n {
			return append(out, rest...), nil
		}
		out = append(out, rest[:n]...)
		b = bytes.TrimLeft(rest[n:], "\r\n")
	}
	return out, nil
}
