// Package jsonrec reads fields of a decoded JSON record (a map[string]any from encoding/json
// with UseNumber), with errors that name the field and the JSON type found. Fine-tuning data and
// chat messages are read with it, so both word their problems the same way.
package jsonrec

import (
	"encoding/json"
	"fmt"
)

// String reads a string field; numbers and booleans are accepted as their JSON text. A missing
// or null field is "" when not required.
func String(rec map[string]any, key string, required bool) (string, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("missing field %q", key)
		}
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("field %q is a %s, want a string", key, Type(v))
}

// Type names a value's JSON type for an error message: "JSON object", "JSON list", else its Go
// type.
func Type(v any) string {
	switch v.(type) {
	case map[string]any:
		return "JSON object"
	case []any:
		return "JSON list"
	}
	return fmt.Sprintf("%T", v)
}
