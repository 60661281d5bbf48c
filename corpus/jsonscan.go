package corpus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonObject is a JSON object scanned without decoding: member names and raw values, as
// slices of the line. It is several times faster than decoding into
// map[string]json.RawMessage, and only the fields asked for are ever unquoted.
type jsonObject struct {
	keys, vals [][]byte
}

var errJSON = errors.New("malformed JSON")

// scan parses b as one JSON object. Nested values are checked for balanced brackets
// and well-formed strings and literals, enough to find where every value ends.
func (o *jsonObject) scan(b []byte) error {
	o.keys, o.vals = o.keys[:0], o.vals[:0]
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: line does not start with '{'", errJSON)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return fmt.Errorf("%w: expected a member name at byte %d", errJSON, i)
		}
		end, err := stringEnd(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, ok := jsonString(b[i:end])
			if !ok {
				return fmt.Errorf("%w: bad member name at byte %d", errJSON, i)
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return fmt.Errorf("%w: expected ':' at byte %d", errJSON, i)
		}
		i = skipSpace(b, i+1)
		vend, err := valueEnd(b, i, 0)
		if err != nil {
			return err
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, b[i:vend])
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return trailing(b, i+1)
		}
		return fmt.Errorf("%w: expected ',' or '}' at byte %d", errJSON, i)
	}
}

func trailing(b []byte, i int) error {
	if i = skipSpace(b, i); i != len(b) {
		return fmt.Errorf("%w: text after the object at byte %d", errJSON, i)
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string starting at b[i].
func stringEnd(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexAny(b[j:], "\"\\")
		if k < 0 {
			return 0, fmt.Errorf("%w: unterminated string at byte %d", errJSON, i)
		}
		j += k
		if b[j] == '"' {
			return j + 1, nil
		}
		j += 2 // skip the escaped character
		if j > len(b) {
			return 0, fmt.Errorf("%w: unterminated string at byte %d", errJSON, i)
		}
	}
}

// valueEnd returns the index after the JSON value starting at b[i].
func valueEnd(b []byte, i, depth int) (int, error) {
	if depth > 1000 {
		return 0, fmt.Errorf("%w: nested too deeply", errJSON)
	}
	if i >= len(b) {
		return 0, fmt.Errorf("%w: missing value", errJSON)
	}
	switch c := b[i]; {
	case c == '"':
		return stringEnd(b, i)
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		j := skipSpace(b, i+1)
		if j < len(b) && b[j] == closing {
			return j + 1, nil
		}
		for {
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return 0, fmt.Errorf("%w: expected a member name at byte %d", errJSON, j)
				}
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				if j = skipSpace(b, end); j >= len(b) || b[j] != ':' {
					return 0, fmt.Errorf("%w: expected ':' at byte %d", errJSON, j)
				}
				j = skipSpace(b, j+1)
			}
			end, err := valueEnd(b, j, depth+1)
			if err != nil {
				return 0, err
			}
			j = skipSpace(b, end)
			if j < len(b) && b[j] == ',' {
				j = skipSpace(b, j+1)
				continue
			}
			if j < len(b) && b[j] == closing {
				return j + 1, nil
			}
			return 0, fmt.Errorf("%w: expected ',' or '%c' at byte %d", errJSON, closing, j)
		}
	case c == 't' && bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, nil
	case c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, nil
	case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, nil
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		if !json.Valid(b[i:j]) {
			return 0, fmt.Errorf("%w: bad number %q", errJSON, b[i:j])
		}
		return j, nil
	}
	return 0, fmt.Errorf("%w: unexpected %q at byte %d", errJSON, b[i], i)
}

// get returns the raw value of a member, following dotted paths into nested objects.
// When a name repeats, the last one wins, as with encoding/json.
func (o *jsonObject) get(path string) ([]byte, bool) {
	for k := len(o.keys) - 1; k >= 0; k-- {
		if string(o.keys[k]) == path {
			return o.vals[k], true
		}
	}
	for k := len(o.keys) - 1; k >= 0; k-- {
		key := o.keys[k]
		if len(path) > len(key) && path[len(key)] == '.' && string(key) == path[:len(key)] && len(o.vals[k]) > 0 && o.vals[k][0] == '{' {
			var sub jsonObject
			if sub.scan(o.vals[k]) != nil {
				return nil, false
			}
			return sub.get(path[len(key)+1:])
		}
	}
	return nil, false
}

// jsonString decodes a raw JSON string value. Strings without escapes are copied as
// they are (invalid UTF-8 included, for the filters to count); others go through
// encoding/json.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		for _, c := range body {
			if c < 0x20 {
				return "", false // control characters must be escaped
			}
		}
		return string(body), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
