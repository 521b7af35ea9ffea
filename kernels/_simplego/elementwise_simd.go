//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). Float32 Add/Sub/Mul/Div and BroadcastInDim run
// on kernels' vector loops over contiguous runs instead of a per-element index iterator.

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnist-trainer/mnist/kernels"
)

// binaryExecutor returns the executor of a float32 element-wise op, handing other dtypes and
// shapes to generic.
func binaryExecutor(op kernels.BinaryOp, generic nodeExecutor) nodeExecutor {
	return func(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
		if node.shape.DType != dtypes.Float32 || !kernels.Enabled() {
			return generic(backend, node, inputs, owned)
		}
		out := node.shape.Dimensions
		lhsDims := asRank(inputs[0], len(out))
		rhsDims := asRank(inputs[1], len(out))
		// Checked before an input buffer may be taken over for the output: after that, simplego's
		// executor could no longer run.
		if lhsDims == nil || rhsDims == nil || !kernels.Broadcastable(out, lhsDims, rhsDims) {
			return generic(backend, node, inputs, owned)
		}
		lhs, rhs, output, _, _ := binaryOperandsAndOutput(backend, inputs, owned, node.shape)
		// When output is one of the inputs, each run is read before it is written.
		kernels.BroadcastBinary(op, output.flat.([]float32), lhs.flat.([]float32), rhs.flat.([]float32),
			out, lhsDims, rhsDims, kernelWorkers(backend))
		binaryCalls.Add(1)
		return output, nil
	}
}

// asRank returns buf's dimensions at the given rank: its own, or all ones for a single value
// (a scalar operand); nil if neither fits.
func asRank(buf *Buffer, rank int) []int {
	if dims := buf.shape.Dimensions; len(dims) == rank {
		return dims
	}
	if buf.shape.Size() != 1 {
		return nil
	}
	ones := make([]int, rank)
	for i := range ones {
		ones[i] = 1
	}
	return ones
}

// execBroadcastInDimSIMD copies float32 and float64 operands in runs.
func execBroadcastInDimSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand := inputs[0]
	dtype := node.shape.DType
	if (dtype != dtypes.Float32 && dtype != dtypes.Float64) || !kernels.Enabled() {
		return execBroadcastInDim(backend, node, inputs, owned)
	}
	out := node.shape.Dimensions
	srcDims := make([]int, len(out))
	for i := range srcDims {
		srcDims[i] = 1
	}
	for operandAxis, outputAxis := range node.data.([]int) {
		srcDims[outputAxis] = operand.shape.Dimensions[operandAxis]
	}
	output := backend.getBufferForShape(node.shape)
	var ok bool
	if dtype == dtypes.Float32 {
		ok = kernels.BroadcastCopy(output.flat.([]float32), operand.flat.([]float32), out, srcDims, kernelWorkers(backend))
	} else {
		ok = kernels.BroadcastCopy(output.flat.([]float64), operand.flat.([]float64), out, srcDims, kernelWorkers(backend))
	}
	if !ok {
		backend.putBuffer(output)
		return execBroadcastInDim(backend, node, inputs, owned)
	}
	broadcastCalls.Add(1)
	return output, nil
}
