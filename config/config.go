// Package config maps YAML files and command-line overrides onto typed Go structs.
//
// The structs are the single source of truth: YAML keys are their `yaml` tags, defaults are
// whatever the struct holds before loading, and every key in a file or override must name a
// field. Errors name the file, the line and the full key, and say what was expected:
//
//	configs/small.yaml:12: optimizer.lrr: unknown key; known keys: lr, min_lr, beta1, ...
//	--set optimizer.lr=fast: optimizer.lr: "fast" is not a float
package config

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load fills dst (a pointer to a struct holding defaults) from the YAML file at path, then
// applies overrides of the form "a.b.c=value" in order.
func Load(path string, overrides []string, dst any) error {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading config: %w", err)
		}
		if err := Decode(b, path, dst); err != nil {
			return err
		}
	}
	for _, o := range overrides {
		if err := Set(dst, o); err != nil {
			return err
		}
	}
	return nil
}

// Decode fills dst from YAML bytes; name is used in error messages.
func Decode(b []byte, name string, dst any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	return decodeNode(doc.Content[0], reflect.ValueOf(dst).Elem(), name, "")
}

// DecodeKey fills dst from one top-level key of a YAML mapping, as strictly as Decode, and
// ignores the file's other keys: for a reader that needs one section of a file written for a
// larger struct (the model section of a checkpoint's run config). A missing key leaves dst as it is.
func DecodeKey(b []byte, name, key string, dst any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	n := doc.Content[0]
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of keys, got %s", name, n.Line, describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return decodeNode(n.Content[i+1], reflect.ValueOf(dst).Elem(), name, key)
		}
	}
	return nil
}

// Set applies one "a.b.c=value" override; value is parsed as YAML (so lists are [x, y]).
func Set(dst any, override string) error {
	key, value, ok := strings.Cut(override, "=")
	if !ok || key == "" {
		return fmt.Errorf("--set %s: want key=value, e.g. --set optimizer.lr=3e-4", override)
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(value), &node); err != nil {
		return fmt.Errorf("--set %s: %v", override, err)
	}
	v := reflect.ValueOf(dst).Elem()
	parts := strings.Split(key, ".")
	for i, part := range parts {
		f, err := field(v, part, strings.Join(parts[:i], "."))
		if err != nil {
			return fmt.Errorf("--set %s: %w", override, err)
		}
		v = f
	}
	var val *yaml.Node
	if len(node.Content) > 0 {
		val = node.Content[0]
	} else {
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	if err := decodeNode(val, v, "--set "+override, key); err != nil {
		return err
	}
	return nil
}

// Marshal writes cfg as YAML (the resolved config saved with runs and checkpoints).
func Marshal(cfg any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeNode(n *yaml.Node, v reflect.Value, file, key string) error {
	if v.Kind() == reflect.Struct && n.Kind == yaml.MappingNode {
		seen := map[string]int{} // key -> line of its first occurrence
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if first, dup := seen[k.Value]; dup {
				return fmt.Errorf("%s:%d: %s: duplicate key (first set on line %d); keep one of them", file, k.Line, join(key, k.Value), first)
			}
			seen[k.Value] = k.Line
			f, err := field(v, k.Value, key)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", file, k.Line, err)
			}
			if err := decodeNode(val, f, file, join(key, k.Value)); err != nil {
				return err
			}
		}
		return nil
	}
	if v.Kind() == reflect.Struct {
		return fmt.Errorf("%s:%d: %s: want a mapping of keys, got %q", file, n.Line, key, n.Value)
	}
	fresh := reflect.New(v.Type())
	if err := n.Decode(fresh.Interface()); err != nil {
		return fmt.Errorf("%s:%d: %s: %s is not a valid %s", file, n.Line, key, describe(n), typeName(v.Type()))
	}
	if err := checkFinite(fresh.Elem()); err != nil {
		return fmt.Errorf("%s:%d: %s: %q %v; give a finite number", file, n.Line, key, n.Value, err)
	}
	v.Set(fresh.Elem())
	return nil
}

// describe names a YAML value for an error: its text, or what kind of node it is.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping of keys"
	}
	return strconv.Quote(n.Value)
}

// checkFinite refuses NaN and ±Inf in a float or a list of floats: no config value means
// "off" or "unlimited" by being NaN (NaN compares false with every bound a validator checks).
func checkFinite(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("is not a finite number")
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := checkFinite(v.Index(i)); err != nil {
				return fmt.Errorf("item %d %v", i, err)
			}
		}
	}
	return nil
}

// field finds the struct field whose yaml tag is name.
func field(v reflect.Value, name, parent string) (reflect.Value, error) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("%s: is a %s, not a section with keys", parent, typeName(v.Type()))
	}
	var known []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if tag == name {
			return v.Field(i), nil
		}
		known = append(known, tag)
	}
	sort.Strings(known)
	return reflect.Value{}, fmt.Errorf("%s: unknown key; known keys here: %s", join(parent, name), strings.Join(known, ", "))
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint64:
		return "whole number"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	}
	return t.Kind().String()
}
