//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). A float32 max-pool over the two middle axes of a
// rank-4 tensor (GoMLX's MaxPool of images [batch, height, width, channels]: ReduceWindow with max)
// and its gradient (SelectAndScatterMax, selectandscatter.go) run on kernels.MaxPool32 and
// kernels.SelectAndScatterMax32; every other window goes to simplego's own executor.

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnist-trainer/mnist/kernels"
)

// imagePool returns the kernels' geometry of a window over operand dims, when it covers one
// pixel and one channel of one image at a time (window and stride 1 on the first and last
// axes, no padding there, no dilations, no negative padding); ok is false otherwise.
func imagePool(dims, window, strides, baseDilations, windowDilations []int, paddings [][2]int, out []int) (p kernels.Pool, ok bool) {
	if len(dims) != 4 || len(window) != 4 || len(strides) != 4 || len(paddings) != 4 || len(out) != 4 {
		return p, false
	}
	for _, d := range [][]int{baseDilations, windowDilations} {
		for _, v := range d {
			if v != 1 {
				return p, false
			}
		}
	}
	for _, axis := range []int{0, 3} {
		if window[axis] != 1 || strides[axis] != 1 || paddings[axis] != [2]int{} {
			return p, false
		}
	}
	for _, axis := range []int{1, 2} {
		if strides[axis] < 1 || paddings[axis][0] < 0 || paddings[axis][1] < 0 {
			return p, false
		}
	}
	return kernels.Pool{Batch: dims[0], Height: dims[1], Width: dims[2], Channels: dims[3],
		WindowH: window[1], WindowW: window[2], StrideH: strides[1], StrideW: strides[2],
		PadTop: paddings[1][0], PadLeft: paddings[2][0], OutH: out[1], OutW: out[2]}, true
}

// execReduceWindowSIMD runs a float32 max-pool of images (imagePool) on kernels.MaxPool32.
func execReduceWindowSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand := inputs[0]
	p := node.data.(*reduceWindowNode)
	strides := p.strides
	if strides == nil {
		strides = p.windowDimensions
	}
	paddings := p.paddings
	if paddings == nil {
		paddings = make([][2]int, operand.shape.Rank())
	}
	pool, ok := imagePool(operand.shape.Dimensions, p.windowDimensions, strides, p.baseDilations, p.windowDilations, paddings, node.shape.Dimensions)
	if !ok || p.reductionType != backends.ReduceOpMax || operand.shape.DType != dtypes.Float32 || !kernels.Enabled() {
		return execReduceWindow(backend, node, inputs, owned)
	}
	output := backend.getBufferForShape(node.shape)
	kernels.MaxPool32(output.flat.([]float32), operand.flat.([]float32), pool, kernelWorkers(backend))
	maxPoolCalls.Add(1)
	return output, nil
}

// execSelectAndScatterMaxSIMD runs the gradient of a float32 max-pool of images on
// kernels.SelectAndScatterMax32.
func execSelectAndScatterMaxSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand, source := inputs[0], inputs[1]
	p := node.data.(*selectAndScatterNode)
	pool, ok := imagePool(operand.shape.Dimensions, p.windowDimensions, p.strides, nil, nil, p.paddings, source.shape.Dimensions)
	if !ok || operand.shape.DType != dtypes.Float32 || !kernels.Enabled() {
		return execSelectAndScatterMax(backend, node, inputs, owned)
	}
	output := backend.getBufferForShape(node.shape)
	kernels.SelectAndScatterMax32(output.flat.([]float32), operand.flat.([]float32), source.flat.([]float32), pool, kernelWorkers(backend))
	maxPoolCalls.Add(1)
	return output, nil
}
