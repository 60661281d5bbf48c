package train

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/dtensor"
	"github.com/gomlx/gomlx/ml/model"
)

// dataParallel splits each batch along its first axis over a one-axis mesh of all local devices
// ("data"). Parameters and optimizer state are replicated (the store's default sharding), the
// graphs see the global batch (GoMLX AutoSharding: XLA's Shardy partitioner), so the loss mean and
// the gradients are global and XLA inserts the all-reduce; every device then applies the same
// update. The same config on 1 or N devices computes the same step, up to the order of the
// floating-point sums. Checkpoints read each variable once (the replicas are identical).
type dataParallel struct {
	mesh       *distributed.DeviceMesh
	batch      *distributed.ShardingSpec // [rows, ...] split over "data"
	replicated *distributed.ShardingSpec
}

// newDataParallel returns nil (single-device execution) unless train.data_parallel is "on", or
// "auto" with several devices. Batches must split evenly over the devices.
func newDataParallel(cfg Config, backend compute.Backend) (*dataParallel, error) {
	n := backend.NumDevices()
	switch mode := cfg.Train.DataParallel; {
	case mode == "off", mode != "on" && n < 2:
		return nil, nil
	}
	if backend.Name() != "xla" {
		return nil, fmt.Errorf("train.data_parallel: on needs the XLA backend (GoMLX's %s has one device and no sharding); use auto or off", backend.Name())
	}
	if mb := cfg.MicroBatch(); mb%n != 0 {
		return nil, fmt.Errorf("train.micro_batch_size: %d sequences do not split evenly over %d devices (train.data_parallel); use a multiple of %d", mb, n, n)
	}
	mesh, err := distributed.NewDeviceMesh([]int{n}, []string{"data"})
	if err != nil {
		return nil, fmt.Errorf("data parallel: device mesh of %d devices: %w", n, err)
	}
	batch, err := distributed.BuildSpec(mesh).S("data").Done()
	if err != nil {
		return nil, fmt.Errorf("data parallel: batch sharding: %w", err)
	}
	return &dataParallel{mesh: mesh, batch: batch, replicated: distributed.NewReplicatedShardingSpec(mesh)}, nil
}

// distribute makes e run over the mesh; its first nBatch inputs are batch-sharded, the rest
// (scalars) and every output are replicated.
func (d *dataParallel) distribute(e *model.Exec, nBatch int) {
	if d == nil {
		return
	}
	specs := make([]*distributed.ShardingSpec, 0, nBatch+1)
	for i := 0; i < nBatch; i++ {
		specs = append(specs, d.batch)
	}
	specs = append(specs, d.replicated) // the last spec serves every remaining input
	// XLA compiles a sharded program for given devices: without an assignment PJRT refuses it
	// ("computation is not (device) portable", seen on the H200 with a mesh of one device).
	devices := make([]compute.DeviceNum, d.mesh.NumDevices())
	for i := range devices {
		devices[i] = compute.DeviceNum(i)
	}
	e.AutoSharding(d.mesh).WithInputShardingSpecs(specs...).WithOutputShardingSpecs(d.replicated).
		WithDeviceAssignment(devices)
}

// args returns the call arguments: the tensors themselves on one device, else distributed
// tensors, the first nBatch split into per-device row blocks and the rest replicated.
func (d *dataParallel) args(nBatch int, ts ...*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		if d == nil {
			out[i] = t
			continue
		}
		spec := d.replicated
		if i < nBatch {
			spec = d.batch
		}
		dt, err := dtensor.ShardTensor(spec, t)
		if err != nil { // shapes are checked in newDataParallel and padRows: a bug if it happens
			panic(fmt.Sprintf("data parallel: sharding input %d %s: %v", i, t.Shape(), err))
		}
		out[i] = dt
	}
	return out
}

// padRows is how many rows a batch of rows needs to split evenly over the devices.
func (d *dataParallel) padRows(rows int) int {
	if d == nil {
		return 0
	}
	n := d.mesh.NumDevices()
	return (n - rows%n) % n
}
