package corpus

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const ccDir = "../testdata/commoncrawl/"

func readAll(t testing.TB, path string, opts ReadOptions) []Document {
	t.Helper()
	r, err := OpenDocs(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var docs []Document
	for {
		d, err := r.Next()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
}

func TestWETWhirlwind(t *testing.T) {
	for _, name := range []string{"whirlwind.warc.wet", "whirlwind.warc.wet.gz"} {
		w, err := OpenWARC(ccDir+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		var recs []*WARCRecord
		for {
			r, err := w.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		w.Close()
		if len(recs) != 2 || recs[0].Type != "warcinfo" || recs[1].Type != "conversion" {
			t.Fatalf("%s: got %d records", name, len(recs))
		}
		c := recs[1]
		if c.URI != "https://an.wikipedia.org/wiki/Escopete" || c.Lang != "spa" || c.Date != "2024-05-18T01:58:10Z" || len(c.Body) != 4456 {
			t.Errorf("%s: conversion record %+v (body %d bytes)", name, c.Header, len(c.Body))
		}
		if !strings.HasPrefix(string(c.Body), "Escopete - Biquipedia, a enciclopedia libre\n") {
			t.Errorf("%s: body starts %q", name, c.Body[:60])
		}
		docs := readAll(t, ccDir+name, ReadOptions{})
		if len(docs) != 1 || docs[0].Lang != "spa" || docs[0].Record != 2 || docs[0].URL != c.URI || docs[0].ID != "<urn:uuid:ba729a40-ff84-4085-8d48-0a5b2ee0c42d>" {
			t.Errorf("%s: docs %+v", name, docs)
		}
	}
}

func TestWARCResponses(t *testing.T) {
	var ps Problems
	docs := readAll(t, ccDir+"dolma_sample-0000.warc.gz", ReadOptions{Problems: &ps})
	w, _ := OpenWARC(ccDir+"dolma_sample-0000.warc.gz", nil)
	types := map[string]int{}
	for {
		r, err := w.Next()
		if err != nil {
			break
		}
		types[r.Type]++
	}
	w.Close()
	if types["warcinfo"] != 1 || types["request"] != 22 || types["response"] != 22 || types["resource"] != 2 || types["metadata"] != 1 {
		t.Errorf("record types %v", types)
	}
	if len(docs) < 10 {
		t.Fatalf("only %d documents from the responses; problems: %v", len(docs), ps.Samples())
	}
	for _, d := range docs {
		if strings.Contains(d.Text, "<div") || strings.Contains(d.Text, "<script") {
			t.Errorf("%s: HTML left in text: %.200q", d.Where(), d.Text)
		}
	}
	ex := readAll(t, ccDir+"warcio_example.warc.gz", ReadOptions{})
	if len(ex) != 1 || ex[0].URL != "http://example.com/" || !strings.Contains(ex[0].Text, "Example Domain") {
		t.Errorf("warcio example: %+v", ex)
	}
}

func TestJSONLSamples(t *testing.T) {
	var ps Problems
	docs := readAll(t, ccDir+"CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", ReadOptions{Problems: &ps})
	if len(docs) != 697 || ps.Total() != 0 {
		t.Fatalf("got %d docs, problems %v", len(docs), ps.Samples())
	}
	d := docs[0]
	if d.ID != "blj5uzvcoa4iybpd5o6kom5nir6ngmoj" || !strings.HasPrefix(d.Text, "A New Home?\n\nMarch 03, 2018") || d.Record != 1 || d.URL == "" || d.Date == "" {
		t.Errorf("first doc %+v", d)
	}
	if docs[696].Record != 697 {
		t.Errorf("last doc at line %d", docs[696].Record)
	}
	dolma := readAll(t, ccDir+"dolma_documents_000.json.gz", ReadOptions{})
	if len(dolma) == 0 || !strings.HasPrefix(dolma[0].Text, "PPAA Home\n") || dolma[0].ID != "http://advocatesaz.org/tag/antibiotic-resistant-bacteria/" {
		t.Errorf("dolma docs: %d, first %+v", len(dolma), dolma[0])
	}
	for _, ext := range []string{"", ".gz", ".zst"} {
		got := readAll(t, ccDir+"dolma_formats_test.jsonl"+ext, ReadOptions{JSONL: JSONLOptions{TextField: "message"}})
		if len(got) != 1 || got[0].Text != "this is a test" {
			t.Errorf("test.jsonl%s: %+v", ext, got)
		}
	}
}

func TestJSONLBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(path, []byte("{\"text\":\"one\"}\n{not json\n\n{\"body\":\"x\"}\n{\"text\":\"four\",\"meta\":{\"url\":\"u\"}}\n{\"text\":\"last\"}"), 0o644)
	var ps Problems
	docs := readAll(t, path, ReadOptions{Problems: &ps})
	if len(docs) != 3 || docs[1].Text != "four" || docs[1].Record != 5 || docs[1].URL != "u" || docs[2].Text != "last" {
		t.Errorf("docs %+v", docs)
	}
	s := ps.Samples()
	if len(s) != 2 || !strings.HasSuffix(s[0].String(), "bad.jsonl:2: not a JSON object: invalid character 'n' looking for beginning of object key string") && !strings.Contains(s[0].String(), "bad.jsonl:2: ") || !strings.Contains(s[1].String(), "bad.jsonl:4: no field \"text\"") {
		t.Errorf("problems %v", s)
	}
}

// gzipMember compresses b as one gzip member.
func gzipMember(b []byte) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

func wetRecord(uri, lang, text string) []byte {
	return []byte("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: " + uri + "\r\nWARC-Identified-Content-Language: " + lang +
		"\r\nContent-Type: text/plain\r\nContent-Length: " + itoa(len(text)) + "\r\n\r\n" + text + "\r\n\r\n")
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + string(appendInt(nil, n))) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestWARCBadInput(t *testing.T) {
	dir := t.TempDir()
	// A per-record gzip WET: good, truncated member, good, broken header, good.
	var f []byte
	f = append(f, gzipMember(wetRecord("http://a/", "eng", "first page"))...)
	bad := gzipMember(wetRecord("http://b/", "eng", strings.Repeat("lost page ", 100)))
	f = append(f, bad[:len(bad)/2]...)
	f = append(f, gzipMember(wetRecord("http://c/", "fra", "third page"))...)
	f = append(f, gzipMember([]byte("WARC/1.0\r\nWARC-Type: conversion\r\nthis is no header\r\n\r\nbody\r\n\r\n"))...)
	f = append(f, gzipMember(wetRecord("http://e/", "deu", "fifth page"))...)
	path := filepath.Join(dir, "bad.warc.wet.gz")
	os.WriteFile(path, f, 0o644)
	var ps Problems
	docs := readAll(t, path, ReadOptions{Problems: &ps})
	var urls []string
	for _, d := range docs {
		urls = append(urls, d.URL)
	}
	if strings.Join(urls, " ") != "http://a/ http://c/ http://e/" {
		t.Errorf("kept %v; problems %v", urls, ps.Samples())
	}
	if ps.ByKind()["truncated_compressed"] != 1 || ps.ByKind()["bad_warc_header"] != 1 {
		t.Errorf("problems %v", ps.Samples())
	}
	for _, p := range ps.Samples() {
		if !strings.HasPrefix(p.String(), path+":") {
			t.Errorf("problem %q does not name the file", p)
		}
	}
	// A member cut right after its gzip header: the break is met while checking the end of
	// the record before it, which is kept; the break is still reported.
	f = append(gzipMember(wetRecord("http://a/", "eng", "first page")), bad[:12]...)
	f = append(f, gzipMember(wetRecord("http://c/", "fra", "third page"))...)
	os.WriteFile(path, f, 0o644)
	ps = Problems{}
	urls = nil
	for _, d := range readAll(t, path, ReadOptions{Problems: &ps}) {
		urls = append(urls, d.URL)
	}
	if strings.Join(urls, " ") != "http://a/ http://c/" || ps.ByKind()["truncated_compressed"] != 1 || ps.Total() != 1 {
		t.Errorf("member cut after its header: kept %v; problems %v", urls, ps.Samples())
	}
	// Truncated single-member gzip: the records before the cut survive.
	whole := gzipMember(append(wetRecord("http://a/", "eng", "one"), wetRecord("http://b/", "eng", strings.Repeat("two ", 2000))...))
	os.WriteFile(path, whole[:len(whole)-40], 0o644)
	ps = Problems{}
	docs = readAll(t, path, ReadOptions{Problems: &ps})
	if len(docs) != 1 || docs[0].Text != "one" || ps.Total() != 1 {
		t.Errorf("truncated file: %d docs, problems %v", len(docs), ps.Samples())
	}
}

// TestWARCContentLengthMismatch: a record whose Content-Length disagrees with the record
// boundaries (too short, too long, past the end of the file) is reported as a bad record of
// its file and skipped, never emitted cut; the records around it are all read.
func TestWARCContentLengthMismatch(t *testing.T) {
	withLength := func(uri, text string, length int) []byte {
		return []byte("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: " + uri + "\r\nContent-Type: text/plain\r\nContent-Length: " +
			itoa(length) + "\r\n\r\n" + text + "\r\n\r\n")
	}
	records := [][]byte{
		wetRecord("http://1/", "eng", "first page"),
		withLength("http://2/", "second page, longer than it says", 6),
		wetRecord("http://3/", "eng", "third page"),
		withLength("http://4/", "fourth page", 11+60), // swallows the start of the fifth record
		wetRecord("http://5/", "eng", "fifth page"),
		withLength("http://6/", "sixth page", 1000000000000),
		wetRecord("http://7/", "eng", "seventh page"),
	}
	dir := t.TempDir()
	var plain, members []byte
	for _, r := range records {
		plain = append(plain, r...)
		members = append(members, gzipMember(r)...)
	}
	for name, b := range map[string][]byte{"lengths.warc.wet": plain, "lengths.warc.wet.gz": members} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, b, 0o644)
		var ps Problems
		docs := readAll(t, path, ReadOptions{Problems: &ps})
		var got []string
		for _, d := range docs {
			got = append(got, d.URL+"="+d.Text)
		}
		if want := "http://1/=first page http://3/=third page http://5/=fifth page http://7/=seventh page"; strings.Join(got, " ") != want {
			t.Errorf("%s: read %q, want %q; problems %v", name, got, want, ps.Samples())
		}
		if ps.ByKind()["bad_content_length"] != 3 || ps.Total() != 3 {
			t.Errorf("%s: problems %v, want 3 bad_content_length", name, ps.Samples())
		}
		for i, p := range ps.Samples() {
			if want := fmt.Sprintf("%s:%d:", path, []int{2, 4, 6}[i]); !strings.HasPrefix(p.String(), want) {
				t.Errorf("%s: problem %q, want it to start %q", name, p, want)
			}
		}
	}
}

// TestWARCRecordTypes: only response records (HTML or text payloads) and WET conversion
// records are text; warcinfo, request, metadata and resource records (a crawler's log) are not.
func TestWARCRecordTypes(t *testing.T) {
	rec := func(typ, ctype, block string) []byte {
		return []byte("WARC/1.0\r\nWARC-Type: " + typ + "\r\nWARC-Target-URI: http://" + typ + "/\r\nContent-Type: " + ctype +
			"\r\nContent-Length: " + itoa(len(block)) + "\r\n\r\n" + block + "\r\n\r\n")
	}
	var f []byte
	f = append(f, rec("warcinfo", "application/warc-fields", "software: wget\r\n")...)
	f = append(f, rec("request", "application/http;msgtype=request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n")...)
	f = append(f, rec("response", "application/http;msgtype=response", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>the page</p>")...)
	f = append(f, rec("metadata", "application/warc-fields", "outlink: http://y/\r\n")...)
	f = append(f, rec("resource", "text/plain", "wget.log: Saving to: index.html")...)
	f = append(f, rec("resource", "text/html", "<p>arguments</p>")...)
	f = append(f, rec("conversion", "text/plain", "converted text")...)
	path := filepath.Join(t.TempDir(), "types.warc")
	os.WriteFile(path, f, 0o644)
	var got []string
	for _, d := range readAll(t, path, ReadOptions{}) {
		got = append(got, d.URL+"="+strings.TrimSpace(d.Text))
	}
	if want := "http://response/=the page http://conversion/=converted text"; strings.Join(got, " ") != want {
		t.Errorf("documents %q, want %q", got, want)
	}
}

func TestHTMLText(t *testing.T) {
	got := HTMLText([]byte(`<html><head><title>T &amp; U</title><style>p{}</style></head><body><p>Hello <b>big</b>
	world</p><script>var x = "<p>no</p>";</script><!-- c --><ul><li>one</li><li>two&nbsp;2</li></ul></body></html>`))
	want := "T & U\nHello big world\none\ntwo 2\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestHTTPCharset(t *testing.T) {
	msg := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n<p>caf\xe9</p>")
	ctype, body, err := httpPayload(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got := HTMLText(toUTF8(ctype, body)); got != "café\n" {
		t.Errorf("got %q", got)
	}
}

func TestDocumentsAcrossShards(t *testing.T) {
	n, shards := 0, map[string]bool{}
	for d, err := range Documents([]string{ccDir + "whirlwind.warc.wet*", ccDir + "dolma_formats_test.jsonl"}, ReadOptions{JSONL: JSONLOptions{TextField: "message"}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		shards[d.Shard] = true
	}
	if n != 3 || len(shards) != 3 {
		t.Errorf("%d documents from %d shards", n, len(shards))
	}
}

func TestTruncatedZstd(t *testing.T) {
	var lines strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&lines, "{\"text\":\"document number %d with some words\"}\n", i)
	}
	enc, _ := zstd.NewWriter(nil)
	z := enc.EncodeAll([]byte(lines.String()), nil)
	path := filepath.Join(t.TempDir(), "cut.jsonl.zst")
	os.WriteFile(path, z[:len(z)*2/3], 0o644)
	var ps Problems
	docs := readAll(t, path, ReadOptions{Problems: &ps})
	if ps.ByKind()["truncated_compressed"] != 1 || len(docs) < 1000 {
		t.Errorf("%d docs kept, problems %v", len(docs), ps.Samples())
	}
	for i, d := range docs {
		if d.Text != fmt.Sprintf("document number %d with some words", i) {
			t.Fatalf("doc %d: %q", i, d.Text)
		}
	}
}
