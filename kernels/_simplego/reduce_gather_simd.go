//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). It covers ReduceSum over consecutive axes (float32
// and float64), and the row Gather and ScatterSum that are the model's im2col and its gradient.

import (
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnist-trainer/mnist/kernels"
)

// execReduceSumSIMD sums float32 or float64 over a run of consecutive axes.
func execReduceSumSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand := inputs[0]
	dtype := operand.shape.DType
	axes := slices.Sorted(slices.Values(node.data.([]int)))
	if (dtype != dtypes.Float32 && dtype != dtypes.Float64) || len(axes) == 0 || !kernels.Enabled() ||
		axes[len(axes)-1]-axes[0] != len(axes)-1 {
		return execReduce(backend, node, inputs, owned)
	}
	dims := operand.shape.Dimensions
	outer, r, inner := 1, 1, 1
	for i, d := range dims {
		switch {
		case i < axes[0]:
			outer *= d
		case i <= axes[len(axes)-1]:
			r *= d
		default:
			inner *= d
		}
	}
	if r == 0 {
		return execReduce(backend, node, inputs, owned)
	}
	output := backend.getBufferForShape(node.shape)
	if dtype == dtypes.Float32 {
		kernels.SumRows32(output.flat.([]float32), operand.flat.([]float32), outer, r, inner, kernelWorkers(backend))
	} else {
		kernels.SumRows64(output.flat.([]float64), operand.flat.([]float64), outer, r, inner, kernelWorkers(backend))
	}
	reduceSumCalls.Add(1)
	return output, nil
}

// rowIndices returns the int32 row indices of a Gather or Scatter whose operand is [rows, width]
// and whose indices are [n, 1] pointing into axis 0; nil otherwise.
func rowIndices(operand, indices *Buffer, indexVectorAxis int, mapped []int) []int32 {
	if operand.shape.Rank() != 2 || indices.shape.DType != dtypes.Int32 || indices.shape.Rank() != 2 ||
		indices.shape.Dimensions[1] != 1 || indexVectorAxis != 1 || !slices.Equal(mapped, []int{0}) {
		return nil
	}
	return indices.flat.([]int32)
}

// execGatherSIMD copies whole rows, for any dtype, where the Gather takes rows of a matrix.
func execGatherSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand, indices := inputs[0], inputs[1]
	p := node.data.(*gatherNode)
	idx := rowIndices(operand, indices, p.indexVectorAxis, p.startIndexMap)
	if idx == nil || !kernels.Enabled() || !slices.Equal(p.collapsedSlicesAxes, []int{0}) ||
		!slices.Equal(p.offsetOutputAxes, []int{1}) || !slices.Equal(p.sliceSizes, []int{1, operand.shape.Dimensions[1]}) {
		return execGather(backend, node, inputs, owned)
	}
	rows, width := operand.shape.Dimensions[0], operand.shape.Dimensions[1]
	output := backend.getBufferForShape(node.shape)
	switch operand.shape.DType {
	case dtypes.Float32:
		kernels.GatherRows(output.flat.([]float32), operand.flat.([]float32), rows, idx, width, kernelWorkers(backend))
	case dtypes.Float64:
		kernels.GatherRows(output.flat.([]float64), operand.flat.([]float64), rows, idx, width, kernelWorkers(backend))
	default:
		backend.putBuffer(output)
		return execGather(backend, node, inputs, owned)
	}
	gatherRowsCalls.Add(1)
	return output, nil
}

// execScatterSumSIMD adds float32 rows into a matrix, where the ScatterSum is row-wise.
func execScatterSumSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand, indices, updates := inputs[0], inputs[1], inputs[2]
	p := node.data.(*scatterNode)
	idx := rowIndices(operand, indices, p.indexVectorAxis, p.scatterAxesToOperandAxes)
	if idx == nil || operand.shape.DType != dtypes.Float32 || !kernels.Enabled() ||
		!slices.Equal(p.insertedWindowAxes, []int{0}) || !slices.Equal(p.updateWindowAxes, []int{1}) ||
		!slices.Equal(updates.shape.Dimensions, []int{len(idx), operand.shape.Dimensions[1]}) {
		return execScatter(backend, node, inputs, owned)
	}
	var output *Buffer
	if owned[0] {
		output = operand
		inputs[0] = nil
	} else {
		output = backend.cloneBuffer(operand)
	}
	output.shape = node.shape
	kernels.AddRows32(output.flat.([]float32), operand.shape.Dimensions[0], updates.flat.([]float32), idx,
		operand.shape.Dimensions[1], kernelWorkers(backend))
	scatterSumCalls.Add(1)
	return output, nil
}
