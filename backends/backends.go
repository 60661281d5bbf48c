// Package backends picks and creates the compute backend (XLA with a PJRT plugin, or GoMLX's
// pure-Go backend) for every command, test and notebook, so the rules (explicit name, then
// $GOMLX_BACKEND, then XLA when a plugin is installed, else Go; never a download; never a
// panic) live in one place.
package backends

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/go-xla/compute/xla"
)

// New picks the compute backend. An explicit name ("go", "xla", "xla:cuda",
// "xla:/abs/path/plugin.so") wins, then $GOMLX_BACKEND; otherwise XLA when a PJRT plugin is
// installed, else GoMLX's pure-Go backend. It never downloads a plugin unless
// GOMLX_NO_AUTO_INSTALL is explicitly set to 0/false, and it returns an error instead of panicking.
//
// The Go backend runs independent graph nodes in parallel. That is safe only with
// third_party/compute's worker pool (go.mod replaces github.com/gomlx/compute with it):
// upstream's can deadlock. TestWorkerPoolNeverDeadlocks fails on a build that links upstream's.
func New(name string) (b compute.Backend, err error) {
	if v, ok := os.LookupEnv(xla.NoAutoInstallEnv); !ok || (v != "0" && v != "false") {
		xla.EnableAutoInstall(false)
	}
	if name == "" {
		name = os.Getenv(compute.ConfigEnvVar)
	}
	if name == "" {
		name = "go"
		plugins := xla.GetAvailablePlugins()
		sort.Strings(plugins)
		for _, preferred := range []string{"cuda", "rocm", "tpu", "cpu"} {
			for _, p := range plugins {
				if p == preferred {
					name = "xla:" + p
					break
				}
			}
			if name != "go" {
				break
			}
		}
	}
	if strings.HasPrefix(name, "go") && !simdBuild {
		fmt.Fprintln(os.Stderr, noSIMDWarning)
	}
	defer func() { // compute.NewWithConfig panics on an unknown backend name
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", name, r)
		}
	}()
	b, err = compute.NewWithConfig(name)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w (use --backend go for the pure-Go backend)", name, err)
	}
	return b, nil
}

// noSIMDWarning is printed when the Go backend runs in a binary built without SIMD kernels.
const noSIMDWarning = "golem: built without GOEXPERIMENT=simd: the Go backend runs about 20x slower; rebuild with `make build` or `GOEXPERIMENT=simd go build`"

// ForInference is New for generation. On the Go backend it runs graph nodes one
// at a time (ops_sequential): a decode step is a few hundred tiny ops, and running them in
// parallel cost about 3x the CPU time in goroutine hand-offs (aidreams260K, bench/generate);
// each matmul still uses every core. An explicit "go:..." configuration is kept as given.
func ForInference(name string) (compute.Backend, error) {
	if name == "" {
		name = os.Getenv(compute.ConfigEnvVar)
	}
	b, err := New(name)
	if err != nil || b.String() != "go" || (name != "" && name != "go") {
		return b, err
	}
	b.Finalize()
	return New("go:ops_sequential")
}
