//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). It replaces the float32 DotGeneral executor with
// kernels.MatMul, which reads both operands in place through strides instead of copying them
// into 32×32 blocks and back.

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnist-trainer/mnist/kernels"
)

// execDotGeneralSIMD runs float32 DotGenerals whose batch, cross and contracting axes each
// collapse to one stride (every product of this project's network does); simplego's own
// executor runs the rest.
func execDotGeneralSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	lhs, rhs := inputs[0], inputs[1]
	params := node.data.(*dotGeneralNodeData)
	if lhs.shape.DType != dtypes.Float32 || !kernels.Enabled() {
		return execDotGeneral(backend, node, inputs, owned)
	}
	lb, lc, lk, ok1 := dgStrides(lhs, params.lhsBatchAxes, params.lhsContractingAxes)
	rb, rc, rk, ok2 := dgStrides(rhs, params.rhsBatchAxes, params.rhsContractingAxes)
	if !ok1 || !ok2 {
		return execDotGeneral(backend, node, inputs, owned)
	}
	dotGeneralCalls.Add(1)
	output := backend.getBufferForShape(node.shape)
	m, k, n := params.lhsCrossSize, params.contractingSize, params.rhsCrossSize
	workers := kernelWorkers(backend)
	lf, rf, out := lhs.flat.([]float32), rhs.flat.([]float32), output.flat.([]float32)
	for bi := range params.batchSize {
		a := kernels.Matrix{Data: lf, Offset: bi * lb, RowStride: lc, ColStride: lk}
		b := kernels.Matrix{Data: rf, Offset: bi * rb, RowStride: rk, ColStride: rc}
		kernels.MatMul(out[bi*m*n:], a, b, m, k, n, workers)
	}
	return output, nil
}

// kernelWorkers is how many goroutines a kernel may use on backend: 1 where its parallelism is
// off (model.GoBackendPerCore, whose replicas each own a core), else its parallelism (by
// default the number of CPUs; -1, unlimited, means GOMAXPROCS), never more than GOMAXPROCS.
// In wasm it is 1: there is one thread.
func kernelWorkers(backend *Backend) int {
	if !backend.workers.IsEnabled() {
		return 1
	}
	return kernels.Workers(backend.workers.MaxParallelism())
}

// dgStrides finds the single memory stride of buf's batch, cross and contracting axes, each
// group read in its order (the cross axes in axis order, the others as listed); ok is false if
// some group's axes are not laid out consecutively in that order.
func dgStrides(buf *Buffer, batchAxes, contractingAxes []int) (batch, cross, contract int, ok bool) {
	dims := buf.shape.Dimensions
	strides := make([]int, len(dims))
	s := 1
	for axis := len(dims) - 1; axis >= 0; axis-- {
		strides[axis] = s
		s *= dims[axis]
	}
	kind := make([]int, len(dims)) // 0 cross, 1 contracting, 2 batch
	for _, a := range contractingAxes {
		kind[a] = 1
	}
	for _, a := range batchAxes {
		kind[a] = 2
	}
	var crossAxes []int
	for a := range dims {
		if kind[a] == 0 {
			crossAxes = append(crossAxes, a)
		}
	}
	groupStride := func(axes []int) (int, bool) {
		stride, next := 0, -1 // next: the stride the axis before must have
		for i := len(axes) - 1; i >= 0; i-- {
			a := axes[i]
			if dims[a] == 1 {
				continue
			}
			if next >= 0 && strides[a] != next {
				return 0, false
			}
			if next < 0 {
				stride = strides[a]
			}
			next = strides[a] * dims[a]
		}
		return stride, true
	}
	var ok1, ok2, ok3 bool
	batch, ok1 = groupStride(batchAxes)
	cross, ok2 = groupStride(crossAxes)
	contract, ok3 = groupStride(contractingAxes)
	return batch, cross, contract, ok1 && ok2 && ok3
}
