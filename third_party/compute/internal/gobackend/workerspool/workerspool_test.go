package workerspool

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNestedFanOutNeverDeadlocks reproduces the Go backend's pattern that hangs upstream: graph
// nodes run as pool tasks and each fans out again (Saturate, or WaitToStart + WaitGroup) while
// holding its slot. With every slot held by such a node, upstream's pool waits forever.
func TestNestedFanOutNeverDeadlocks(t *testing.T) {
	p := New()
	p.SetMaxParallelism(2)
	done := make(chan struct{})
	var work atomic.Int64
	go func() {
		var nodes sync.WaitGroup
		for n := 0; n < 64; n++ {
			nodes.Add(1)
			p.WaitToStart(func() { // a graph node
				defer nodes.Done()
				var items atomic.Int64
				items.Store(100)
				p.Saturate(func() { // its matmul
					for items.Add(-1) >= 0 {
						work.Add(1)
						time.Sleep(10 * time.Microsecond)
					}
				})
				var chunks sync.WaitGroup
				for c := 0; c < 8; c++ { // its fused GELU
					chunks.Add(1)
					p.WaitToStart(func() { work.Add(1); chunks.Done() })
				}
				chunks.Wait()
			})
		}
		nodes.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("nested fan-out deadlocked")
	}
	if got := work.Load(); got != 64*(100+8) {
		t.Fatalf("did %d work items, want %d", got, 64*108)
	}
}

// golem: Saturate returns once the caller's own task has returned and every helper that entered
// the task has left it; helpers that start later must not run the task (the state they would
// read is gone). Many short Saturate calls in a row, each pulling a few items: every item is
// done exactly once, the task never runs after its Saturate returned, and helpers that found
// the work done leave the pool's slots free.
func TestSaturateSkipsLateHelpers(t *testing.T) {
	p := New()
	var late atomic.Int64
	for call := range 2000 {
		var next, done atomic.Int64
		var returned atomic.Bool
		p.Saturate(func() {
			if returned.Load() {
				late.Add(1)
			}
			for next.Add(1) <= 3 {
				done.Add(1)
			}
		})
		returned.Store(true)
		if got := done.Load(); got != 3 {
			t.Fatalf("call %d: %d items done, want 3", call, got)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		running := p.numRunning
		p.mu.Unlock()
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d helpers still hold pool slots", running)
		}
		time.Sleep(time.Millisecond)
	}
	if n := late.Load(); n != 0 {
		t.Fatalf("the task ran %d times after its Saturate returned", n)
	}
}
