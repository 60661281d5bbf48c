package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() map[string]Tensor {
	return map[string]Tensor{
		"b":       F32([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
		"a":       {DType: "BF16", Shape: []int{3}, Data: []byte{0x80, 0x3f, 0, 0x40, 0x40, 0x40}},
		"empty":   {DType: "F32", Shape: []int{0, 4}, Data: nil},
		"scalar":  F32([]float32{7}),
		"h.0.i64": {DType: "I64", Shape: []int{1}, Data: make([]byte, 8)},
	}
}

func encode(t *testing.T, ts map[string]Tensor, meta map[string]string) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	b := encode(t, sample(), map[string]string{"format": "pt"})
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range sample() {
		got := f.Tensors[name]
		if got.DType != want.DType || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %+v want %+v", name, got, want)
		}
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	v, _ := f.Tensors["a"].Float32s()
	if !reflect.DeepEqual(v, []float32{1, 2, 3}) {
		t.Errorf("bf16 decode %v", v)
	}
}

// Allocate and WriteStream must produce the same bytes as Write.
func TestAllocateAndStreamMatchWrite(t *testing.T) {
	ts := sample()
	want := encode(t, ts, map[string]string{"k": "v"})
	var infos []Info
	for n, x := range ts {
		infos = append(infos, Info{Name: n, DType: x.DType, Shape: x.Shape})
	}
	buf, slots, err := Allocate(infos, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	for n, x := range ts {
		copy(slots[n], x.Data)
	}
	if !bytes.Equal(buf, want) {
		t.Errorf("Allocate differs from Write")
	}
	var sb bytes.Buffer
	if err := WriteStream(&sb, infos, map[string]string{"k": "v"}, func(n string) ([]byte, error) { return ts[n].Data, nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sb.Bytes(), want) {
		t.Errorf("WriteStream differs from Write")
	}
}

func TestOpenMapsLikeParse(t *testing.T) {
	b := encode(t, sample(), nil)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, _ := Parse(b)
	for name, want := range f.Tensors {
		got := m.Tensors[name]
		if !bytes.Equal(got.Data, want.Data) || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
			t.Errorf("%s differs", name)
		}
		m.Release(got)
	}
}

// header builds a file from a raw JSON header and n data bytes.
func header(js string, n int) []byte {
	b := make([]byte, 8, 8+len(js)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(js)))
	return append(append(b, js...), make([]byte, n)...)
}

func TestMalformed(t *testing.T) {
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"short":         {[]byte{1, 2, 3}, "truncated"},
		"huge header":   {huge, "exceeds"},
		"header past":   {header(`{}`, 0)[:9], "truncated"},
		"not json":      {header(`{"a":`, 0), "not valid JSON"},
		"not object":    {header(`[1,2]`, 0), "not a JSON object"},
		"unknown dtype": {header(`{"x":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, 1), "unknown dtype"},
		"outside":       {header(`{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), "outside"},
		"negative":      {header(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 8), "outside"},
		"shape bytes":   {header(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12 bytes"},
		"neg dim":       {header(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, 0), "bad shape"},
		"overflow dims": {header(`{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}`, 0), "bad shape"},
		"overlap":       {header(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "overlap"},
		"missing":       {header(`{"x":{"dtype":"F32","shape":[2]}}`, 8), "needs dtype"},
		"three offs":    {header(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8), "want [begin, end]"},
		"metadata":      {header(`{"__metadata__":{"a":1}}`, 0), "__metadata__"},
	}
	for name, c := range cases {
		_, err := Parse(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
		path := filepath.Join(t.TempDir(), "bad.safetensors")
		os.WriteFile(path, c.b, 0o644)
		if m, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open error %v should name the file", name, err)
			if m != nil {
				m.Close()
			}
		}
	}
}

func TestSharded(t *testing.T) {
	dir := t.TempDir()
	ts := sample()
	one, two := map[string]Tensor{"a": ts["a"], "b": ts["b"]}, map[string]Tensor{"scalar": ts["scalar"]}
	WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"), one, nil)
	WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), two, nil)
	writeIndex := func(m map[string]string) {
		b, _ := json.Marshal(Index{Metadata: map[string]any{"total_size": 40}, WeightMap: m})
		os.WriteFile(filepath.Join(dir, IndexFile), b, 0o644)
	}
	good := map[string]string{"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors", "scalar": "model-00002-of-00002.safetensors"}
	writeIndex(good)
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tensors) != 3 || !bytes.Equal(s.Tensors["scalar"].Data, ts["scalar"].Data) {
		t.Errorf("sharded set %v", s.From)
	}
	s.Release("b")
	s.Close()
	for name, m := range map[string]map[string]string{
		"wrong shard": {"a": "model-00002-of-00002.safetensors", "b": "model-00001-of-00002.safetensors", "scalar": "model-00002-of-00002.safetensors"},
		"traversal":   {"a": "../model-00001-of-00002.safetensors"},
		"unlisted":    {"a": "model-00001-of-00002.safetensors", "scalar": "model-00002-of-00002.safetensors"},
		"missing":     {"a": "model-00003-of-00002.safetensors"},
	} {
		writeIndex(m)
		if s, err := OpenDir(dir); err == nil {
			s.Close()
			t.Errorf("%s: no error", name)
		}
	}
}
