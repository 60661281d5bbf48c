//go:build golemfault

package checkpoint

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Crash tests build a command with `-tags golemfault` and run it with GOLEM_FAULT=STAGE@N: the
// process kills itself with SIGKILL the N-th time a save or prune reaches STAGE (see FaultHook:
// file:model.safetensors, before-marker, before-rename, pruning:step-NNNNNNNN). Binaries built
// without the tag have no such switch.
func init() {
	fault := os.Getenv("GOLEM_FAULT")
	if fault == "" {
		return
	}
	stage, nth := fault, 1
	if i := strings.LastIndex(fault, "@"); i >= 0 {
		stage = fault[:i]
		if _, err := fmt.Sscan(fault[i+1:], &nth); err != nil {
			panic(fmt.Sprintf("GOLEM_FAULT=%s: want STAGE@N with a count N", fault))
		}
	}
	FaultHook = func(s string) {
		if s == stage {
			if nth--; nth == 0 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
}
