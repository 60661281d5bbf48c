package train

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// InterruptContext returns a context that the first SIGINT (Ctrl-C) or SIGTERM cancels, so
// the loop stops after the current step and saves, and the exit code a command should end
// with: 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as shells report
// it), 0 without a signal. A second signal kills the process at once (the checkpoints on
// disk are atomic, so that loses at most the save in progress).
func InterruptContext() (context.Context, func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var code atomic.Int32
	go func() {
		sig := <-ch
		signal.Stop(ch) // the next one takes the default action
		code.Store(128 + int32(sig.(syscall.Signal)))
		cancel()
	}()
	return ctx, func() int { return int(code.Load()) }
}
