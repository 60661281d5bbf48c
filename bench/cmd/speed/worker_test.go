package main

import "testing"

// The worker starts a backend and measures the matmul peak: it failed with "no registered
// compute.Backend" once the packages it imports stopped registering the Go backend as a side
// effect (it now starts its backend through golem's backends package).
func TestWorkerMeasuresPeak(t *testing.T) {
	peakOnly, peakN := *flagPeakOnly, *flagPeakN
	defer func() { *flagPeakOnly, *flagPeakN = peakOnly, peakN }()
	*flagPeakOnly, *flagPeakN = true, 64
	if err := worker(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
