package config

import (
	"strings"
	"testing"
)

type section struct {
	LR    float64   `yaml:"lr"`
	Drops []float64 `yaml:"drops"`
	Steps int       `yaml:"steps"`
}

type doc struct {
	Opt section `yaml:"optimizer"`
}

func TestDuplicateKeysRejected(t *testing.T) {
	var d doc
	err := Decode([]byte("optimizer:\n  lr: 1\n  steps: 3\n  lr: 2\n"), "x.yaml", &d)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:4: optimizer.lr: duplicate key (first set on line 2)") {
		t.Fatalf("got %v", err)
	}
	err = Decode([]byte("optimizer:\n  lr: 1\noptimizer:\n  steps: 2\n"), "x.yaml", &d)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3: optimizer: duplicate key (first set on line 1)") {
		t.Fatalf("got %v", err)
	}
}

func TestNonFiniteRejected(t *testing.T) {
	for _, in := range []string{".nan", ".inf", "-.Inf", ".NaN"} {
		var d doc
		err := Decode([]byte("optimizer:\n  lr: "+in+"\n"), "x.yaml", &d)
		if err == nil || !strings.Contains(err.Error(), "x.yaml:2: optimizer.lr:") || !strings.Contains(err.Error(), "not a finite number") {
			t.Errorf("%s: got %v", in, err)
		}
		if err := Set(&d, "optimizer.lr="+in); err == nil || !strings.Contains(err.Error(), "optimizer.lr") {
			t.Errorf("--set %s: got %v", in, err)
		}
	}
	var d doc
	if err := Set(&d, "optimizer.drops=[0.1, .nan]"); err == nil || !strings.Contains(err.Error(), "item 1") {
		t.Errorf("list: got %v", err)
	}
	if err := Set(&d, "optimizer.lr=1e-3"); err != nil || d.Opt.LR != 1e-3 {
		t.Errorf("finite value: %v %v", err, d.Opt.LR)
	}
}

// DecodeKey reads one section strictly (file, line and key in errors) and ignores the rest.
func TestDecodeKey(t *testing.T) {
	b := []byte("name: run\ndata:\n  anything: [1, 2]\noptimizer:\n  lr: 0.5\n  steps: 3\n")
	var s section
	if err := DecodeKey(b, "x.yaml", "optimizer", &s); err != nil || s.LR != 0.5 || s.Steps != 3 {
		t.Fatalf("got %+v, %v", s, err)
	}
	err := DecodeKey([]byte("other: 1\noptimizer:\n  lr: 1\n  stesp: 2\n"), "x.yaml", "optimizer", &s)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:4: optimizer.stesp: unknown key") {
		t.Fatalf("misspelt key in the section: %v", err)
	}
	var missing section
	if err := DecodeKey([]byte("other: 1\n"), "x.yaml", "optimizer", &missing); err != nil || missing.LR != 0 || missing.Steps != 0 {
		t.Fatalf("absent section: %+v, %v", missing, err)
	}
}
