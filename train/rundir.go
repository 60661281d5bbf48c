package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/internal/atomicfile"
)

// runFiles are the files a run writes into its out_dir besides checkpoint folders.
var runFiles = []string{checkpoint.ConfigFile, "metrics.jsonl", "loss.png", ".config.yaml.tmp"} // the last from before atomicfile

// prepareRunDir makes out_dir ready for a run. A fresh run never mixes with an earlier
// one: a folder that holds anything is refused unless the run resumes (--resume) or
// replaces the earlier run (--overwrite: its checkpoints, metrics, plot and config are
// deleted; other files stay). A resumed run first clears what crashes leave behind
// (see checkpoint.Manager.Clean).
func prepareRunDir(mgr *checkpoint.Manager, opts Options, log io.Writer) error {
	if opts.Resume && opts.Overwrite {
		return fmt.Errorf("--resume and --overwrite contradict each other: --resume continues the run in %s, --overwrite deletes it; pick one", mgr.Dir)
	}
	entries, err := os.ReadDir(mgr.Dir)
	if os.IsNotExist(err) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("out_dir: %w", err)
	}
	switch {
	case opts.Overwrite:
		if err := mgr.RemoveAll(); err != nil {
			return err
		}
		// The run's files, and any temporary config a killed run left (see atomicfile.Create).
		paths, _ := atomicfile.Leftovers(filepath.Join(mgr.Dir, checkpoint.ConfigFile))
		for _, f := range runFiles {
			paths = append(paths, filepath.Join(mgr.Dir, f))
		}
		for _, p := range paths {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("--overwrite: %w", err)
			}
		}
		fmt.Fprintf(log, "--overwrite: removed the previous run's checkpoints, metrics and config from %s\n", mgr.Dir)
	case opts.Resume:
		done, err := mgr.Clean()
		for _, d := range done {
			fmt.Fprintf(log, "start-up: %s in %s (left by an interrupted save or prune)\n", d, mgr.Dir)
		}
		return err
	default:
		var names []string
		for _, e := range entries[:min(len(entries), 4)] {
			names = append(names, e.Name())
		}
		if len(entries) > 4 {
			names = append(names, "...")
		}
		return fmt.Errorf("out_dir %s is not empty (%s): pass --resume to continue the run in it, or --overwrite to delete its checkpoints and metrics and start afresh, or set out_dir to a new folder", mgr.Dir, strings.Join(names, ", "))
	}
	return nil
}
