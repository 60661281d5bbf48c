// Package checkpoint saves and finds training checkpoints that survive crashes.
//
// A checkpoint is a folder `step-00000100` of named files. Save writes them into a hidden
// temporary folder, fsyncs each file, writes a COMPLETE manifest (step and sha256 of every
// file) last, fsyncs, renames the folder into place and fsyncs the parent. A folder without a
// valid manifest (a crash mid-save) is never loaded; the previous complete checkpoint is.
package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// Marker is the manifest file written last; its presence makes a checkpoint complete.
const Marker = "COMPLETE"

// FaultHook, when set, is called at each stage of Save ("file:NAME" after each file,
// "before-marker", "before-rename") and of pruning ("pruning:step-NNNNNNNN", after the
// manifest is removed): tests use it to kill the process at a chosen moment.
var FaultHook func(stage string)

// Manager keeps the checkpoints of one run in Dir.
type Manager struct {
	Dir       string
	KeepLast  int // keep the newest KeepLast checkpoints (0 = keep all)
	KeepEvery int // and, forever, every checkpoint whose step is a multiple of KeepEvery (0 = none)
}

type manifest struct {
	Step  int64             `json:"step"`
	Files map[string]string `json:"files"` // name -> sha256
}

// Name is the folder name of a step's checkpoint.
func Name(step int64) string { return fmt.Sprintf("step-%08d", step) }

// Save writes files as the checkpoint for step, atomically, then prunes old checkpoints.
func (m *Manager) Save(step int64, files map[string][]byte) (string, error) {
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: creating %s: %w", m.Dir, err)
	}
	final := filepath.Join(m.Dir, Name(step))
	tmp, err := os.MkdirTemp(m.Dir, ".tmp-"+Name(step)+"-")
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	man := manifest{Step: step, Files: map[string]string{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := atomicfile.WriteFile(filepath.Join(tmp, n), files[n]); err != nil {
			return "", fmt.Errorf("checkpoint %s: %w", final, err)
		}
		sum := sha256.Sum256(files[n])
		man.Files[n] = hex.EncodeToString(sum[:])
		fault("file:" + n)
	}
	fault("before-marker")
	mb, _ := json.MarshalIndent(man, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(tmp, Marker), mb); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return "", err
	}
	fault("before-rename")
	if err := os.RemoveAll(final); err != nil { // an incomplete folder left by a crash
		return "", fmt.Errorf("checkpoint: removing stale %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint: renaming into %s: %w", final, err)
	}
	if err := atomicfile.SyncDir(m.Dir); err != nil {
		return "", err
	}
	return final, m.prune()
}

// List returns the complete checkpoints in Dir, oldest first.
func (m *Manager) List() ([]string, error) {
	entries, err := os.ReadDir(m.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: listing %s: %w", m.Dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "step-") {
			p := filepath.Join(m.Dir, e.Name())
			if _, err := Step(p); err == nil {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out) // zero-padded step numbers sort in order
	return out, nil
}

// Latest is the newest complete checkpoint, or "" when there is none.
func (m *Manager) Latest() (string, error) {
	all, err := m.List()
	if err != nil || len(all) == 0 {
		return "", err
	}
	return all[len(all)-1], nil
}

// Step reads a checkpoint's manifest and returns its step; it fails for incomplete folders.
func Step(dir string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		return 0, fmt.Errorf("checkpoint %s is incomplete (no %s marker): %w", dir, Marker, err)
	}
	var man manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return 0, fmt.Errorf("checkpoint %s: bad %s manifest: %w", dir, Marker, err)
	}
	return man.Step, nil
}

// Read loads one file of a checkpoint and checks it against the manifest's sha256.
func Read(dir, name string) ([]byte, error) {
	mb, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s is incomplete (no %s marker)", dir, Marker)
	}
	var man manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		return nil, fmt.Errorf("checkpoint %s: bad manifest: %w", dir, err)
	}
	want, ok := man.Files[name]
	if !ok {
		return nil, fmt.Errorf("checkpoint %s has no %s", dir, name)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("checkpoint %s: %s does not match its sha256 in %s (corrupted on disk?)", dir, name, Marker)
	}
	return b, nil
}

// Has reports whether a checkpoint lists the named file.
func Has(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

func (m *Manager) prune() error {
	if m.KeepLast <= 0 {
		return nil
	}
	all, err := m.List()
	if err != nil {
		return err
	}
	for i := 0; i < len(all)-m.KeepLast; i++ {
		step, err := Step(all[i])
		if err != nil {
			continue
		}
		if m.KeepEvery > 0 && step%int64(m.KeepEvery) == 0 {
			continue
		}
		if err := remove(all[i]); err != nil {
			return fmt.Errorf("checkpoint: pruning %s: %w", all[i], err)
		}
	}
	return nil
}

// remove deletes a checkpoint folder manifest first, so a crash halfway leaves a folder
// that is plainly incomplete (never loaded, removed by Clean) rather than one that looks
// complete with files missing.
func remove(dir string) error {
	if err := os.Remove(filepath.Join(dir, Marker)); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return err
	}
	fault("pruning:" + filepath.Base(dir))
	return os.RemoveAll(dir)
}

// Clean removes what crashes leave in Dir: temporary `.tmp-step-*` folders of an
// interrupted save and `step-*` folders without a valid manifest (an interrupted prune).
// A temporary folder whose manifest and files are intact is the only copy of its step
// when the crash came between removing a stale step folder and the rename: it is renamed
// into place instead. Nothing else is touched: only these names, only directly in Dir.
// Returns what it removed or recovered, as "removed NAME" / "recovered NAME".
func (m *Manager) Clean() ([]string, error) {
	entries, err := os.ReadDir(m.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: listing %s: %w", m.Dir, err)
	}
	var done []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !(strings.HasPrefix(name, ".tmp-step-") || isStepName(name)) {
			continue
		}
		dir := filepath.Join(m.Dir, name)
		if strings.HasPrefix(name, ".tmp-") && verify(dir) == nil {
			step, _ := Step(dir)
			final := filepath.Join(m.Dir, Name(step))
			if _, err := Step(final); err == nil || !strings.HasPrefix(name, ".tmp-"+Name(step)+"-") {
				continue // a valid manifest: never deleted
			}
			if err := os.RemoveAll(final); err != nil {
				return done, fmt.Errorf("checkpoint: removing incomplete %s: %w", final, err)
			}
			if err := os.Rename(dir, final); err != nil {
				return done, fmt.Errorf("checkpoint: recovering %s: %w", dir, err)
			}
			done = append(done, "recovered "+Name(step))
			continue
		}
		if _, err := Step(dir); err == nil {
			continue // a valid manifest: never deleted
		}
		if err := os.RemoveAll(dir); err != nil {
			return done, fmt.Errorf("checkpoint: removing leftover %s: %w", dir, err)
		}
		done = append(done, "removed "+name)
	}
	if len(done) > 0 {
		return done, atomicfile.SyncDir(m.Dir)
	}
	return nil, nil
}

// RemoveAll deletes every checkpoint folder in Dir, complete or not (step-NNNNNNNN and
// .tmp-step-*), each manifest first; nothing else in Dir is touched. It is how a run
// started with --overwrite clears the previous run.
func (m *Manager) RemoveAll() error {
	entries, err := os.ReadDir(m.Dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint: listing %s: %w", m.Dir, err)
	}
	for _, e := range entries {
		if e.IsDir() && (strings.HasPrefix(e.Name(), ".tmp-step-") || isStepName(e.Name())) {
			if err := remove(filepath.Join(m.Dir, e.Name())); err != nil {
				return fmt.Errorf("checkpoint: removing %s: %w", filepath.Join(m.Dir, e.Name()), err)
			}
		}
	}
	return atomicfile.SyncDir(m.Dir)
}

// isStepName reports whether name is a checkpoint folder name, step-NNNNNNNN.
func isStepName(name string) bool {
	digits := strings.TrimPrefix(name, "step-")
	if len(digits) < 8 || len(digits) == len(name) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// verify checks that every file a checkpoint's manifest lists matches its sha256.
func verify(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		return err
	}
	var man manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return err
	}
	for name := range man.Files {
		if _, err := Read(dir, name); err != nil {
			return err
		}
	}
	return nil
}

func fault(stage string) {
	if FaultHook != nil {
		FaultHook(stage)
	}
}
