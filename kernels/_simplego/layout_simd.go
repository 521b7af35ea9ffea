//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). Slice copies contiguous runs instead of one
// element at a time.

import "github.com/mnist-trainer/mnist/kernels"

// execSliceRuns copies a unit-stride Slice, of any dtype, as runs of bytes: the innermost axes
// that are taken whole merge with the first one that is not into one run.
func execSliceRuns(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand := inputs[0]
	p := node.data.(*sliceNode)
	for _, s := range p.strides {
		if s != 1 {
			return execSlice(backend, node, inputs, owned)
		}
	}
	if !kernels.Enabled() || node.shape.Size() == 0 {
		// An empty output has no bytes for mutableBytes to point at.
		return execSlice(backend, node, inputs, owned)
	}
	in, out := operand.shape.Dimensions, node.shape.Dimensions
	rank := len(in)
	size := node.shape.DType.Size()
	strides := make([]int, rank) // in bytes
	s := size
	for axis := rank - 1; axis >= 0; axis-- {
		strides[axis] = s
		s *= in[axis]
	}
	// first is the outermost axis of the run: every axis after it is whole.
	first, run := rank, size
	for first > 0 {
		first--
		run *= out[first]
		if out[first] != in[first] {
			break
		}
	}
	output := backend.getBufferForShape(node.shape)
	src, dst := operand.mutableBytes(), output.mutableBytes()
	start := 0
	for axis := range rank {
		start += p.starts[axis] * strides[axis]
	}
	idx := make([]int, first)
	for d := 0; d < len(dst); d += run {
		o := start
		for axis, i := range idx {
			o += i * strides[axis]
		}
		copy(dst[d:d+run], src[o:o+run])
		for axis := first - 1; axis >= 0; axis-- {
			if idx[axis]++; idx[axis] < out[axis] {
				break
			}
			idx[axis] = 0
		}
	}
	sliceCalls.Add(1)
	return output, nil
}
