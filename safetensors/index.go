package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IndexFile is the name Hugging Face gives the map from tensor names to shard files.
const IndexFile = "model.safetensors.index.json"

// MaxIndexSize bounds model.safetensors.index.json (a 400B-parameter model's is under 2 MB).
const MaxIndexSize = 64 << 20

// Index is a parsed model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard}}.
type Index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// ReadIndex reads and checks an index: every shard must be a plain file name in the index's
// folder (no paths, so a hostile index cannot point outside it).
func ReadIndex(path string) (*Index, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxIndexSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d-byte limit for an index", path, st.Size(), MaxIndexSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: weight_map is empty", path)
	}
	for name, shard := range idx.WeightMap {
		if shard == "" || shard != filepath.Base(shard) || strings.ContainsAny(shard, `/\`) || shard == "." || shard == ".." {
			return nil, fmt.Errorf("%s: tensor %q maps to %q, which is not a file name in the same folder", path, name, shard)
		}
	}
	return &idx, nil
}

// Set is the tensors of one checkpoint, possibly spread over several mapped shards.
type Set struct {
	Tensors map[string]Tensor
	From    map[string]string // tensor name -> file it came from
	files   []*Mapped
	byName  map[string]*Mapped
}

// OpenDir opens the weights of a Hugging Face model folder: model.safetensors.index.json and
// its shards if present, else model.safetensors, else the folder's only *.safetensors file.
func OpenDir(dir string) (*Set, error) {
	idxPath := filepath.Join(dir, IndexFile)
	if _, err := os.Stat(idxPath); err == nil {
		return OpenIndex(idxPath)
	}
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err != nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if len(matches) != 1 {
			return nil, fmt.Errorf("%s: no %s, no model.safetensors, and %d other *.safetensors files; give a folder with one of them", dir, IndexFile, len(matches))
		}
		single = matches[0]
	}
	return OpenFiles(single)
}

// OpenIndex opens every shard an index names and checks that each tensor is in the shard
// the index says, and that no shard holds a tensor the index does not list.
func OpenIndex(path string) (*Set, error) {
	idx, err := ReadIndex(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	shards := map[string]bool{}
	for _, s := range idx.WeightMap {
		shards[s] = true
	}
	names := make([]string, 0, len(shards))
	for s := range shards {
		names = append(names, filepath.Join(dir, s))
	}
	sort.Strings(names)
	set, err := OpenFiles(names...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for name, shard := range idx.WeightMap {
		if got, ok := set.From[name]; !ok || filepath.Base(got) != shard {
			set.Close()
			if !ok {
				return nil, fmt.Errorf("%s: tensor %q is mapped to %s, which does not hold it", path, name, shard)
			}
			return nil, fmt.Errorf("%s: tensor %q is mapped to %s but found in %s", path, name, shard, got)
		}
	}
	for name, file := range set.From {
		if _, ok := idx.WeightMap[name]; !ok {
			set.Close()
			return nil, fmt.Errorf("%s: %s holds tensor %q, which the index does not list", path, file, name)
		}
	}
	return set, nil
}

// OpenFiles maps each file; a tensor name found in two files is an error.
func OpenFiles(paths ...string) (*Set, error) {
	s := &Set{Tensors: map[string]Tensor{}, From: map[string]string{}, byName: map[string]*Mapped{}}
	for _, p := range paths {
		m, err := Open(p)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.files = append(s.files, m)
		for name, t := range m.Tensors {
			if prev, dup := s.From[name]; dup {
				s.Close()
				return nil, fmt.Errorf("tensor %q is in both %s and %s", name, prev, p)
			}
			s.Tensors[name], s.From[name], s.byName[name] = t, p, m
		}
	}
	return s, nil
}

// Release drops a tensor's pages from memory once the caller has converted it.
func (s *Set) Release(name string) {
	if m := s.byName[name]; m != nil {
		m.Release(s.Tensors[name])
	}
}

// Close unmaps every file.
func (s *Set) Close() error {
	var errs []error
	for _, m := range s.files {
		errs = append(errs, m.Close())
	}
	s.files, s.Tensors = nil, nil
	return errors.Join(errs...)
}
