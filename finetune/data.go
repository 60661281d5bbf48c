package finetune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/jsonrec"
)

// Segment is a piece of an example's text and whether its tokens are trained by default; chat
// templates render into the same pieces.
type Segment = chattemplate.Segment

// Example is one usable record, rendered as segments.
type Example struct {
	Where    string // file:line
	Format   string // the record's format after detection
	Segments []Segment
	Label    string // classification label ("" otherwise)
}

// Prompt is the text before the last trained segment run (the query of a k-shot prompt).
func (e *Example) Prompt() string {
	last := e.lastTrainedRun()
	var b strings.Builder
	for _, s := range e.Segments[:last] {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Completion is the text of the last run of trained segments (the expected answer).
func (e *Example) Completion() string {
	var b strings.Builder
	for _, s := range e.Segments[e.lastTrainedRun():] {
		if s.Train {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Text is the whole rendered example.
func (e *Example) Text() string {
	var b strings.Builder
	for _, s := range e.Segments {
		b.WriteString(s.Text)
	}
	return b.String()
}

func (e *Example) lastTrainedRun() int {
	i := len(e.Segments)
	for i > 0 && !e.Segments[i-1].Train {
		i--
	}
	for i > 0 && e.Segments[i-1].Train {
		i--
	}
	return i
}

// Problem is one bad or adjusted record, printed as "file:line: problem".
type Problem struct {
	Where   string
	Msg     string
	Dropped bool // the record is not used (counts toward data.max_bad_fraction)
}

func (p Problem) String() string { return p.Where + ": " + p.Msg }

// Dataset is the examples read from files, with every problem met on the way.
type Dataset struct {
	Examples []Example
	Problems []Problem
	Records  int // records read (non-blank lines or array elements)
}

// Dropped counts the records that are not used.
func (d *Dataset) Dropped() int {
	n := 0
	for _, p := range d.Problems {
		if p.Dropped {
			n++
		}
	}
	return n
}

// Labels lists the distinct classification labels, sorted.
func (d *Dataset) Labels() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range d.Examples {
		if e.Format == "classification" && !seen[e.Label] {
			seen[e.Label] = true
			out = append(out, e.Label)
		}
	}
	sort.Strings(out)
	return out
}

// CheckBad returns an error when more than max (a fraction) of the records were dropped.
func (d *Dataset) CheckBad(max float64, what string) error {
	bad := d.Dropped()
	if d.Records == 0 {
		return fmt.Errorf("%s: no records", what)
	}
	// Advice that fits the policy in use: truncation cannot help an example whose prompt
	// alone fills the row, so that case never gets "set data.overflow to truncate".
	long, promptLong := 0, 0
	for _, p := range d.Problems {
		switch {
		case !p.Dropped || !strings.HasPrefix(p.Msg, "example is "):
		case strings.Contains(p.Msg, "prompt alone"):
			promptLong++
		default:
			long++
		}
	}
	hint := ""
	if long > 0 {
		hint = fmt.Sprintf("; %d are longer than the context: set data.overflow to truncate or split, or use a base with a longer model.seq_len", long)
	}
	if promptLong > 0 {
		hint += fmt.Sprintf("; %d have a prompt that alone fills the context, which no data.overflow setting fixes: use a base with a longer model.seq_len (e.g. convert import --seq-len, or pretrain with a larger model.seq_len) or shorter prompts", promptLong)
	}
	if len(d.Examples) == 0 {
		return fmt.Errorf("%s: none of the %d records is usable; first problem: %s%s", what, d.Records, d.Problems[0], hint)
	}
	if frac := float64(bad) / float64(d.Records); frac > max {
		return fmt.Errorf("%s: %d of %d records (%.1f%%) are unusable, over data.max_bad_fraction = %g; first problem: %s%s (raise data.max_bad_fraction to train anyway)",
			what, bad, d.Records, 100*frac, max, d.Problems[0], hint)
	}
	return nil
}

// Report writes the problems (at most show; 0 = all) and a one-line count to w.
func (d *Dataset) Report(w io.Writer, what string, show int) {
	for i, p := range d.Problems {
		if show > 0 && i >= show {
			fmt.Fprintf(w, "... and %d more (data.show_problems = %d)\n", len(d.Problems)-show, show)
			break
		}
		fmt.Fprintln(w, p)
	}
	fmt.Fprintf(w, "%s: %s, %s used, %d dropped, %s\n", what, data.Plural(d.Records, "record"), data.Plural(len(d.Examples), "example"),
		d.Dropped(), data.Plural(len(d.Problems)-d.Dropped(), "other problem"))
}

// ReadFiles reads every file as JSONL (or a JSON array of objects) and renders its records.
// Only unreadable files are errors; bad records become Problems.
func ReadFiles(files []string, dc DataConfig) (*Dataset, error) {
	tmpl, err := chattemplate.Load(dc.Template)
	if err != nil {
		return nil, fmt.Errorf("data.template: %w", err)
	}
	ds := &Dataset{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if err := ds.add(f, b, dc, tmpl); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// ReadBytes is ReadFiles for one in-memory file called name.
func ReadBytes(name string, b []byte, dc DataConfig) (*Dataset, error) {
	tmpl, err := chattemplate.Load(dc.Template)
	if err != nil {
		return nil, fmt.Errorf("data.template: %w", err)
	}
	ds := &Dataset{}
	return ds, ds.add(name, b, dc, tmpl)
}

func (ds *Dataset) add(file string, b []byte, dc DataConfig, tmpl *chattemplate.Template) error {
	record := func(line int, raw []byte) {
		ds.Records++
		where := fmt.Sprintf("%s:%d", file, line)
		var val any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&val); err != nil {
			ds.Problems = append(ds.Problems, Problem{where, "malformed JSON: " + jsonErr(err), true})
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			ds.Problems = append(ds.Problems, Problem{where, "malformed JSON: more than one value on the line", true})
			return
		}
		rec, ok := val.(map[string]any)
		if !ok {
			ds.Problems = append(ds.Problems, Problem{where, fmt.Sprintf("malformed record: want a JSON object, got a %s", jsonTypeName(val)), true})
			return
		}
		rec, err := mapFields(rec, dc.Fields)
		if err != nil {
			ds.Problems = append(ds.Problems, Problem{where, err.Error(), true})
			return
		}
		format, ok := formatNamed(dc.Format)
		if !ok { // auto, per record: a file may mix formats
			if format, ok = detect(rec); !ok {
				ds.Problems = append(ds.Problems, Problem{where, fmt.Sprintf("cannot tell the format from keys %s; want %s (or set data.format / data.fields)", keys(rec), formatKeys()), true})
				return
			}
		}
		ex, err := format.example(rec, tmpl)
		if err != nil {
			ds.Problems = append(ds.Problems, Problem{where, err.Error(), true})
			return
		}
		ex.Where = where
		ds.Examples = append(ds.Examples, ex)
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '[' { // a JSON array of records
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s:1: malformed JSON array: %s", file, jsonErr(err))
		}
		for dec.More() {
			start := int(dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s:%d: malformed JSON array, the rest of the file cannot be read: %s", file, lineAt(b, start), jsonErr(err))
			}
			end := int(dec.InputOffset())
			at := start + len(b[start:end]) - len(bytes.TrimLeft(b[start:end], " \t\r\n,"))
			record(lineAt(b, at), raw)
		}
		return nil
	}
	line := 0
	for len(b) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		record(line, l)
	}
	return nil
}

func lineAt(b []byte, off int) int { return bytes.Count(b[:min(off, len(b))], []byte{'\n'}) + 1 }

func jsonErr(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "unexpected end of input"
	}
	return err.Error()
}

func keys(rec map[string]any) string {
	var ks []string
	for k := range rec {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return "[" + strings.Join(ks, ", ") + "]"
}

// mapFields applies data.fields: each canonical key gets a source key's value or a filled template.
func mapFields(rec map[string]any, fields map[string]string) (map[string]any, error) {
	if len(fields) == 0 {
		return rec, nil
	}
	out := map[string]any{}
	for k, v := range rec {
		out[k] = v
	}
	for canon, spec := range fields {
		if !strings.Contains(spec, "{") {
			v, ok := rec[spec]
			if !ok {
				return nil, fmt.Errorf("missing field %q (data.fields.%s)", spec, canon)
			}
			out[canon] = v
			continue
		}
		s, err := fill(spec, rec)
		if err != nil {
			return nil, fmt.Errorf("%w (data.fields.%s)", err, canon)
		}
		out[canon] = s
	}
	return out, nil
}

// fill replaces {key} in tmpl with the record's string values; {{ and }} are literal braces.
func fill(tmpl string, rec map[string]any) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if (c == '{' || c == '}') && i+1 < len(tmpl) && tmpl[i+1] == c {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("template %q: unclosed {", tmpl)
		}
		key := tmpl[i+1 : i+j]
		s, err := jsonrec.String(rec, key, true)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		i += j
	}
	return b.String(), nil
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return jsonrec.Type(v)
}
