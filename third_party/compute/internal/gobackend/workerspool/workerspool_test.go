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
