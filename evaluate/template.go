package evaluate

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Template renders text from a record: literal text with {{ expressions }}. An expression is
// a field path or a quoted string, then filters, each after a |:
//
//	Question: {{goal}}\nAnswer:
//	{{query|strip_prefix:"Passage: "}}
//	{{correct_answers|split:";"|trim|period}}
//	{{choices[0]}}  {{meta.label|int}}
//
// A template that is one expression and nothing else yields the expression's value as is (a
// list of choices, a number); otherwise the pieces are joined as text. Filters (see filters)
// that take a string apply to each element of a list.
type Template struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	text string // literal text, when expr is nil
	expr *tmplExpr
}

type tmplExpr struct {
	path    []string // field names and [index] as "#3"
	literal *string
	filters []tmplFilter
}

type tmplFilter struct {
	name string
	args []string
}

// ParseTemplate parses src; errors say what is wrong and where in src.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{text: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{text: rest[:i]})
		}
		j := indexClose(rest[i+2:])
		if j < 0 {
			return nil, fmt.Errorf("template %q: {{ at byte %d is never closed with }}", src, len(src)-len(rest)+i)
		}
		e, err := parseExpr(strings.TrimSpace(rest[i+2 : i+2+j]))
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", src, err)
		}
		t.parts = append(t.parts, tmplPart{expr: e})
		rest = rest[i+2+j+2:]
	}
	return t, nil
}

// indexClose finds the closing }} outside quoted strings.
func indexClose(s string) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && strings.HasPrefix(s[i:], "}}"):
			return i
		}
	}
	return -1
}

var (
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	numArgRE = regexp.MustCompile(`^-?[0-9]+`)
)

func parseExpr(s string) (*tmplExpr, error) {
	e := &tmplExpr{}
	if s == "" {
		return nil, fmt.Errorf("empty {{ }}")
	}
	if s[0] == '"' {
		lit, rest, err := readQuoted(s)
		if err != nil {
			return nil, err
		}
		e.literal, s = &lit, rest
	} else {
		for {
			id := identRE.FindString(s)
			if id == "" {
				return nil, fmt.Errorf("expected a field name at %q", s)
			}
			e.path, s = append(e.path, id), s[len(id):]
			for strings.HasPrefix(s, "[") {
				k := strings.Index(s, "]")
				n, err := strconv.Atoi(s[1:max(k, 1)])
				if k < 0 || err != nil {
					return nil, fmt.Errorf("bad index at %q; write field[0]", s)
				}
				e.path, s = append(e.path, "#"+strconv.Itoa(n)), s[k+1:]
			}
			if !strings.HasPrefix(s, ".") {
				break
			}
			s = s[1:]
		}
	}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] != '|' {
			return nil, fmt.Errorf("expected | before a filter at %q", s)
		}
		s = strings.TrimSpace(s[1:])
		name := identRE.FindString(s)
		if _, ok := filters[name]; !ok {
			return nil, fmt.Errorf("unknown filter %q; known: %s", name, filterNames())
		}
		f := tmplFilter{name: name}
		s = s[len(name):]
		if strings.HasPrefix(s, ":") {
			s = s[1:]
			for {
				s = strings.TrimSpace(s)
				var arg string
				var err error
				if strings.HasPrefix(s, `"`) {
					arg, s, err = readQuoted(s)
				} else {
					num := numArgRE.FindString(s)
					if num == "" {
						err = fmt.Errorf("filter %s: argument at %q must be a quoted string or a number", name, s)
					}
					arg, s = num, s[len(num):]
				}
				if err != nil {
					return nil, err
				}
				f.args = append(f.args, arg)
				if s = strings.TrimSpace(s); !strings.HasPrefix(s, ",") {
					break
				}
				s = s[1:]
			}
		}
		if want := filters[name].args; len(f.args) != want {
			return nil, fmt.Errorf("filter %s takes %d argument(s), got %d", name, want, len(f.args))
		}
		e.filters = append(e.filters, f)
	}
	return e, nil
}

// readQuoted reads a Go-syntax double-quoted string at the start of s.
func readQuoted(s string) (string, string, error) {
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '"' {
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", "", fmt.Errorf("bad string %s: %v", s[:i+1], err)
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated string at %q", s)
}

// FieldError is a record that lacks a field a template reads, or holds the wrong kind of value.
type FieldError struct {
	Field, Problem string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Problem) }

// Render evaluates the template on a record (a decoded JSON object or a CSV row).
func (t *Template) Render(rec map[string]any) (any, error) {
	if len(t.parts) == 1 && t.parts[0].expr != nil {
		return t.parts[0].expr.eval(rec)
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.expr.eval(rec)
		if err != nil {
			return nil, err
		}
		s, err := asString(v)
		if err != nil {
			return nil, &FieldError{Field: p.expr.name(), Problem: err.Error()}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// RenderString renders a template whose value must be text.
func (t *Template) RenderString(rec map[string]any) (string, error) {
	v, err := t.Render(rec)
	if err != nil {
		return "", err
	}
	s, err := asString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", t.src, err)
	}
	return s, nil
}

func (e *tmplExpr) name() string {
	if e.literal != nil {
		return strconv.Quote(*e.literal)
	}
	return strings.ReplaceAll(strings.Join(e.path, "."), ".#", "#")
}

func (e *tmplExpr) eval(rec map[string]any) (any, error) {
	var v any
	if e.literal != nil {
		v = *e.literal
	} else {
		v = any(rec)
		for i, p := range e.path {
			where := strings.Join(e.path[:i+1], ".")
			if strings.HasPrefix(p, "#") {
				n, _ := strconv.Atoi(p[1:])
				l, ok := v.([]any)
				if !ok || n >= len(l) {
					return nil, &FieldError{Field: where, Problem: fmt.Sprintf("no element %d (value %v)", n, short(v))}
				}
				v = l[n]
				continue
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, &FieldError{Field: where, Problem: "parent is not an object"}
			}
			if v, ok = m[p]; !ok || v == nil {
				return nil, &FieldError{Field: where, Problem: "missing"}
			}
		}
	}
	for _, f := range e.filters {
		var err error
		if v, err = filters[f.name].apply(v, f.args); err != nil {
			return nil, &FieldError{Field: e.name(), Problem: fmt.Sprintf("filter %s: %v", f.name, err)}
		}
	}
	return v, nil
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// asString turns a template value into text: strings as they are, whole numbers without a
// decimal point.
func asString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("want text, got %T %s", v, short(v))
}

// asInt turns a template value into a whole number (JSON numbers, numeric strings).
func asInt(v any) (int, error) {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case int:
		return x, nil
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("want a whole number, got %T %s", v, short(v))
}

// asList turns a template value into a list of strings.
func asList(v any) ([]string, error) {
	switch x := v.(type) {
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, err := asString(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = s
		}
		return out, nil
	case []string:
		return x, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

type filterDef struct {
	args  int
	str   func(s string, args []string) (string, error) // applied to text, or to each element of a list
	apply func(v any, args []string) (any, error)       // whole-value filters
	doc   string
}

var filters map[string]filterDef

func init() {
	filters = map[string]filterDef{
		"trim":         {str: func(s string, _ []string) (string, error) { return strings.TrimSpace(s), nil }, doc: "remove surrounding whitespace"},
		"rstrip":       {str: func(s string, _ []string) (string, error) { return strings.TrimRightFunc(s, unicode.IsSpace), nil }, doc: "remove trailing whitespace"},
		"lstrip":       {str: func(s string, _ []string) (string, error) { return strings.TrimLeftFunc(s, unicode.IsSpace), nil }, doc: "remove leading whitespace"},
		"strip_prefix": {args: 1, str: func(s string, a []string) (string, error) { return strings.TrimPrefix(s, a[0]), nil }, doc: "remove a prefix if present"},
		"strip_suffix": {args: 1, str: func(s string, a []string) (string, error) { return strings.TrimSuffix(s, a[0]), nil }, doc: "remove a suffix if present"},
		"replace":      {args: 2, str: func(s string, a []string) (string, error) { return strings.ReplaceAll(s, a[0], a[1]), nil }, doc: "replace every old with new"},
		"re_replace": {args: 2, str: func(s string, a []string) (string, error) {
			re, err := regexp.Compile(a[0])
			if err != nil {
				return "", err
			}
			return re.ReplaceAllString(s, a[1]), nil
		}, doc: "replace every match of a Go regexp ($1 refers to a group)"},
		"match": {args: 1, str: func(s string, a []string) (string, error) {
			re, err := regexp.Compile(a[0])
			if err != nil {
				return "", err
			}
			m := re.FindStringSubmatch(s)
			if m == nil {
				return "", fmt.Errorf("%q does not match %s", short(s), a[0])
			}
			return m[len(m)-1], nil
		}, doc: "the regexp's last group (or whole match) in the text; no match is an error"},
		"period": {str: func(s string, _ []string) (string, error) {
			if s = strings.TrimSpace(s); s != "" && !strings.HasSuffix(s, ".") {
				s += "."
			}
			return s, nil
		}, doc: "end with a period (TruthfulQA's answer formatting)"},
		"lower_first": {str: func(s string, _ []string) (string, error) {
			r, n := utf8.DecodeRuneInString(s)
			return string(unicode.ToLower(r)) + s[n:], nil
		}, doc: "lowercase the first letter"},
		"capitalize": {str: func(s string, _ []string) (string, error) {
			r, n := utf8.DecodeRuneInString(s)
			if n == 0 {
				return s, nil
			}
			return string(unicode.ToUpper(r)) + strings.ToLower(s[n:]), nil
		}, doc: "first letter upper case, the rest lower (Python's str.capitalize)"},
		"split": {args: 1, apply: func(v any, a []string) (any, error) {
			s, err := asString(v)
			if err != nil {
				return nil, err
			}
			var out []any
			for _, p := range strings.Split(s, a[0]) {
				if strings.TrimSpace(p) != "" {
					out = append(out, p)
				}
			}
			return out, nil
		}, doc: "text to a list at each separator (empty pieces dropped)"},
		"join": {args: 1, apply: func(v any, a []string) (any, error) {
			l, err := asList(v)
			return strings.Join(l, a[0]), err
		}, doc: "a list to text with a separator"},
		"count": {apply: func(v any, _ []string) (any, error) {
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("want a list, got %T", v)
			}
			return len(l), nil
		}, doc: "the length of a list"},
		"int": {apply: func(v any, _ []string) (any, error) { return asInt(v) }, doc: "a whole number"},
		"add": {args: 1, apply: func(v any, a []string) (any, error) {
			n, err := asInt(v)
			d, _ := strconv.Atoi(a[0])
			return n + d, err
		}, doc: "add a whole number (e.g. 1-based labels to 0-based: add:-1)"},
	}
	for name, f := range filters {
		if f.str != nil {
			str := f.str
			f.apply = func(v any, a []string) (any, error) {
				if l, ok := v.([]any); ok {
					out := make([]any, len(l))
					for i, e := range l {
						s, err := asString(e)
						if err != nil {
							return nil, fmt.Errorf("element %d: %w", i, err)
						}
						if out[i], err = str(s, a); err != nil {
							return nil, err
						}
					}
					return out, nil
				}
				s, err := asString(v)
				if err != nil {
					return nil, err
				}
				return str(s, a)
			}
			filters[name] = f
		}
	}
}

func filterNames() string {
	var names []string
	for n := range filters {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
