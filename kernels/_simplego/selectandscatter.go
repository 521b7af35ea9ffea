package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md), with or without GOEXPERIMENT=simd. It gives
// simplego the one op it lacks to differentiate MaxPool: SelectAndScatterMax, the gradient GoMLX
// builds for ReduceWindow with max. The model pools with MaxPool on every backend; on simplego it
// had gathered each window into a tensor of its own and differentiated gathers instead.
// maxpool_simd.go runs both directions on the kernels where it can.

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pkg/errors"
)

// selectAndScatterNode is a SelectAndScatterMax's window: one size, stride and (before, after)
// padding per axis of the operand.
type selectAndScatterNode struct {
	windowDimensions, strides []int
	paddings                  [][2]int
}

// SelectAndScatterMax implements backends.Builder: for every window of operand (as ReduceWindow
// places them), the window's value of source is added to the operand position of the window's
// first maximum. The result has operand's shape, zero where no window's maximum lies.
func (b *Builder) SelectAndScatterMax(operandOp, sourceOp backends.Op, windowDimensions, strides []int, paddings [][2]int) (backends.Op, error) {
	opType := backends.OpTypeSelectAndScatterMax
	inputs, err := b.checkOps(opType.String(), operandOp, sourceOp)
	if err != nil {
		return nil, err
	}
	operand, source := inputs[0], inputs[1]
	if !operand.shape.DType.IsFloat() || source.shape.DType != operand.shape.DType {
		return nil, errors.Errorf("%s: operand %s and source %s must be of one float dtype", opType, operand.shape, source.shape)
	}
	windows, err := shapeinference.ReduceWindowOp(operand.shape, windowDimensions, strides, nil, nil, paddings)
	if err != nil {
		return nil, errors.WithMessagef(err, "%s", opType)
	}
	if !windows.Equal(source.shape) {
		return nil, errors.Errorf("%s: source is %s, the windows of operand %s are %s", opType, source.shape, operand.shape, windows)
	}
	node := b.newNode(opType, operand.shape, operand, source)
	rank := operand.shape.Rank()
	p := &selectAndScatterNode{windowDimensions: windowDimensions, strides: strides, paddings: paddings}
	if p.strides == nil {
		p.strides = windowDimensions
	}
	if p.paddings == nil {
		p.paddings = make([][2]int, rank)
	}
	node.data = p
	return node, nil
}

func init() {
	Capabilities.Operations[backends.OpTypeSelectAndScatterMax] = true
	setNodeExecutor(backends.OpTypeSelectAndScatterMax, priorityGeneric, execSelectAndScatterMax)
}

// execSelectAndScatterMax is SelectAndScatterMax for any rank, float32 or float64. A window's
// first maximum is the first of its taps inside the operand, in row-major window order, that no
// later tap exceeds; a NaN takes over from any value (the last NaN wins), as in simplego's ArgMax.
// Where windows overlap, their values are added in window order.
func execSelectAndScatterMax(backend *Backend, node *Node, inputs []*Buffer, _ []bool) (*Buffer, error) {
	output := backend.getBufferForShape(node.shape)
	output.Zeros()
	switch node.shape.DType {
	case dtypes.Float32:
		selectAndScatterMax(node, output.flat.([]float32), inputs[0].flat.([]float32), inputs[1].flat.([]float32))
	case dtypes.Float64:
		selectAndScatterMax(node, output.flat.([]float64), inputs[0].flat.([]float64), inputs[1].flat.([]float64))
	default:
		backend.putBuffer(output)
		return nil, errors.Errorf("SelectAndScatterMax: dtype %s is not supported", node.shape.DType)
	}
	return output, nil
}

func selectAndScatterMax[T float32 | float64](node *Node, dst, operand, source []T) {
	p := node.data.(*selectAndScatterNode)
	dims := node.shape.Dimensions
	rank := len(dims)
	strides := make([]int, rank) // of the operand, in elements
	for axis, s := rank-1, 1; axis >= 0; axis-- {
		strides[axis] = s
		s *= dims[axis]
	}
	windowIdx := make([]int, rank)
	for sourceIdx, window := range node.inputs[1].shape.Iter() {
		best := -1
		clear(windowIdx)
	taps:
		for {
			at := 0
			for axis := range rank {
				i := window[axis]*p.strides[axis] - p.paddings[axis][0] + windowIdx[axis]
				if i < 0 || i >= dims[axis] {
					at = -1
					break
				}
				at += i * strides[axis]
			}
			if at >= 0 {
				if v := operand[at]; best < 0 || v > operand[best] || v != v {
					best = at
				}
			}
			// The next tap, the last axis fastest.
			for axis := rank - 1; ; axis-- {
				if axis < 0 {
					break taps
				}
				if windowIdx[axis]++; windowIdx[axis] < p.windowDimensions[axis] {
					break
				}
				windowIdx[axis] = 0
			}
		}
		if best >= 0 {
			dst[best] += source[sourceIdx]
		}
	}
}
