package model

// This file builds the course notebook's network as a GoMLX graph.
//
// simplego, the pure-Go backend that also runs in the browser, cannot differentiate Convolve
// (needs Reverse), MaxPool (needs SelectAndScatterMax) or Slice (needs Pad), and the gradient
// it builds for DotGeneral materialises a [M,K,N] broadcast. So conv and max-pool are written as
// an im2col Gather (whose gradient, ScatterSum, it has), and every matmul carries a hand-written
// gradient made of two more matmuls. The forward pass matches Convolve + MaxPool with TF "SAME"
// padding; the model tests check it against a direct implementation.

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/mnist"
)

// poolWindow and poolStride are the max-pool geometry of the notebook (3x3, stride 2, SAME).
const poolWindow, poolStride = 3, 2

// ParamSpec describes one trainable tensor of the network.
type ParamSpec struct {
	// Name is "<block>.kernel" or "<block>.bias", as stored in weight files.
	Name string
	// Shape is [K,K,In,Out] (TF's HWIO) for conv kernels, [In,Out] for dense kernels, [Out] for biases.
	Shape []int
	// FanIn and FanOut are what Glorot-uniform initialisation uses.
	FanIn, FanOut int
}

// Size returns the number of values in the tensor.
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// sameOut is TF's "SAME" output size: ceil(in/stride).
func sameOut(in, stride int) int { return (in + stride - 1) / stride }

// samePads returns TF's "SAME" padding before and after: the odd pad goes at the end.
func samePads(in, window, stride int) (before, after int) {
	total := max((sameOut(in, stride)-1)*stride+window-in, 0)
	return total / 2, total - total/2
}

// weights maps a ParamSpec name to its value in the graph being built.
type weights map[string]*Node

// forward holds the nodes of one forward pass that callers may want besides the logits.
type forward struct {
	logits *Node
	// activations are the post-ReLU outputs of conv1, conv2 and conv3: the feature maps shown to students.
	activations [3]*Node
	// ins are each conv's input, and cols its im2col rows or, where the conv is Winograd's, its
	// transformed input tiles (winogradInput); neither in native graphs. A team of one's backward
	// pass (soloGraph) reuses them instead of building them again.
	ins, cols [3]*Node
	// native selects GoMLX's Convolve over the im2col and Winograd formulations: for backends that
	// can differentiate it (XLA), where it is much faster. See nativeOps.
	native bool
}

// nativeOps reports whether backend can differentiate Convolve: its gradient needs Reverse and
// Pad. simplego cannot, so it gets the im2col and Winograd formulations.
func nativeOps(backend backends.Backend) bool {
	ops := backend.Capabilities().Operations
	return ops[backends.OpTypeReverse] && ops[backends.OpTypePad]
}

// numSegments is how many pieces the batch-statistics normalisations cut the network into.
const numSegments = 4

// buildForward builds the network on images, uint8 [B,28,28,1] as stored in MNIST, with GoMLX's
// Convolve if native, else with im2col and Winograd's convolutions.
func buildForward(c Config, w weights, images *Node, native bool) forward {
	out := forward{native: native}
	x := segment(c, w, 0, images, &out)
	for k := 1; k < numSegments; k++ {
		x = segment(c, w, k, normalize(x, c.Epsilon), &out)
	}
	out.logits = x
	return out
}

// segment builds segment k of the network (see Config.segments): the layers between two
// batch-statistics normalisations. Segment 0 takes the images; segment k > 0 takes the output of
// segment k-1, normalised. Cutting the network there lets shards of a batch exchange the
// statistics in between (see shard.go) and still compute exactly what one whole batch computes.
func segment(c Config, w weights, k int, x *Node, out *forward) *Node {
	batch := x.Shape().Dimensions[0]
	if k == 0 {
		x = unitPixels(x)
	}
	for _, l := range c.segments()[k] {
		x = l.apply(w, k, x, out)
		x.AssertDims(l.dims(batch)...)
	}
	return x
}

// unitPixels is the images' pixels (uint8) in [0,1], float32, as the notebook's pixel/255.
func unitPixels(images *Node) *Node { return DivScalar(ConvertDType(images, dtypes.Float32), 255.0) }

// convReLU applies conv layer l, the k-th, and its ReLU, and remembers the activation.
func (f *forward) convReLU(k int, l layer, x *Node, w weights) *Node {
	pre, cols := conv(x, w[l.name+".kernel"], w[l.name+".bias"], l.k, l.stride, f.native)
	y := relu(pre)
	f.activations[k], f.ins[k], f.cols[k] = y, x, cols
	return y
}

// dense is x·kernel + bias.
func dense(x *Node, w weights, block string) *Node {
	return Add(matMul(x, w[block+".kernel"]), InsertAxes(w[block+".bias"], 0))
}

// conv is a TF "SAME" 2-D convolution of x [B,H,W,C] with kernel [K,K,C,F]: GoMLX's Convolve if
// native; else Winograd's if useWinograd says so, when it also returns its transformed input
// tiles (winogradInput); else im2col plus matmul, when it also returns the im2col rows.
func conv(x, kernel, bias *Node, k, stride int, native bool) (y, cols *Node) {
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	filters := kernel.Shape().Dimensions[3]
	outSide := sameOut(side, stride)
	if native {
		// Explicit TF paddings: GoMLX's PadSame pads (1,1) whatever the stride.
		before, after := samePads(side, k, stride)
		y = Convolve(x, kernel).StridePerAxis(stride, stride).
			PaddingPerDim([][2]int{{before, after}, {before, after}}).Done()
		return Add(y, Reshape(bias, 1, 1, 1, filters)), nil
	}
	if useWinograd(k, stride, native) {
		y, tiles := winogradConv(x, kernel)
		return Add(y, Reshape(bias, 1, 1, 1, filters)), tiles
	}
	cols = convCols(x, k, stride)
	y = Add(matMul(cols, Reshape(kernel, k*k*channels, filters)), InsertAxes(bias, 0))
	return Reshape(y, batch, outSide, outSide, filters), cols
}

// convCols is im2col for conv: the k x k windows of x [B,H,W,C] for a TF "SAME" conv with the
// given stride, zero-padded, as rows [B*out*out, k*k*C].
func convCols(x *Node, k, stride int) *Node {
	dims := x.Shape().Dimensions
	batch, outSide := dims[0], sameOut(dims[1], stride)
	return Reshape(patches(x, k, stride), batch*outSide*outSide, k*k*dims[3])
}

// maxPool is TF's max_pool(3x3, stride 2, SAME) of x [B,H,W,C]: GoMLX's MaxPool, on every
// backend. Its gradient (SelectAndScatterMax) goes to the first maximum of each window, as TF's
// does, where ReduceMax's would go to every tied maximum, and ties are common here (blank
// background gives identical activations). simplego lacks that gradient; this project's
// executors add it (kernels/_simplego/selectandscatter.go), and run both directions on the
// kernels, reading each window where it lies. (Until then the model gathered every window into a
// tensor of its own, took its ArgMax and gathered the values there, and the gathers' gradients
// scattered into zeroed copies of both: about 17% of a native step, and the pools' index tables.)
func maxPool(x *Node) *Node {
	before, after := samePads(x.Shape().Dimensions[1], poolWindow, poolStride)
	return MaxPool(x).Window(poolWindow).Strides(poolStride).
		PaddingPerDim([][2]int{{before, after}, {before, after}}).Done()
}

// normalize is the notebook's batch-statistics normalisation: tf.nn.moments over (batch, h, w),
// then (x-mean)/sqrt(var+eps), with no learnable scale or offset, in training and evaluation alike.
//
// The statistics are accumulated in float64. simplego sums float32 one element after another, and
// over the 12,544 rows of conv1 at batch 64 that lost about 1e-4 of the mean: divided by a small
// standard deviation, that error reached 1e-3 in the normalised activations, enough to change
// which element wins a max-pool window. (Summing each image in float32 first, then the batch in
// float64, was a few percent faster, but one more rounding made sharded and whole-batch training
// drift apart after 4 steps instead of 10: Adam turns rounding in nearly-zero gradients into
// full-size steps, so any difference grows several-fold a step.)
func normalize(x *Node, epsilon float64) *Node {
	mean := channelMean(x)
	variance := channelMean(Square(Sub(x, Reshape(mean, 1, 1, 1, mean.Shape().Dimensions[0]))))
	// Sqrt rather than Rsqrt: simplego has no gradient for Rsqrt.
	return normalizeWith(x, mean, Sqrt(AddScalar(variance, epsilon)))
}

// channelMean is the mean of x [B,H,W,C] per channel, [C], accumulated in float64.
func channelMean(x *Node) *Node {
	return ConvertDType(ReduceMean(ConvertDType(x, dtypes.Float64), 0, 1, 2), x.DType())
}

// channelSum is the sum of x [B,H,W,C] per channel, [C], accumulated in float64: the shards'
// part of channelMean.
func channelSum(x *Node) *Node {
	return ConvertDType(ReduceSum(ConvertDType(x, dtypes.Float64), 0, 1, 2), x.DType())
}

// normalizeWith is (x-mean)/std with per-channel statistics, broadcast over x [B,H,W,C],
// computed as (x-mean)·(1/std), as TF's batch_normalization does (x·rsqrt(var+ε)): a full-size
// division cost 2.3 times a multiplication in WebAssembly and natively (BENCHMARKS.md), and the
// reciprocals are one per channel.
func normalizeWith(x, mean, std *Node) *Node {
	c := x.Shape().Dimensions[3]
	return Mul(Sub(x, Reshape(mean, 1, 1, 1, c)), Reshape(reciprocal(std), 1, 1, 1, c))
}

// normalizeGradient is the gradient of normalizeWith's input x [B,H,W,C] with the batch's own
// statistics, from the gradient g of its output y: (g - mean(g) - y·mean(g·y)) / std, where
// meanG and meanGY are the batch's per-channel means of g and g·y, multiplied by the reciprocals
// as normalizeWith is. The team's sharded step and a team of one's single graph both call it, so
// that they compute the same bits.
func normalizeGradient(g, y, meanG, meanGY, std *Node) *Node {
	c := g.Shape().Dimensions[3]
	bcast := func(v *Node) *Node { return Reshape(v, 1, 1, 1, c) }
	return Mul(Sub(Sub(g, bcast(meanG)), Mul(y, bcast(meanGY))), bcast(reciprocal(std)))
}

// reciprocal is 1/x, element by element.
func reciprocal(x *Node) *Node { return Div(ScalarOne(x.Graph(), x.DType()), x) }

// patches gathers the k x k windows of x [B,H,W,C] for a TF "SAME" op with the given stride,
// returning [B*out*out*k*k, C] with taps in (row, column) order, padded with zeros.
func patches(x *Node, k, stride int) *Node {
	dims := x.Shape().Dimensions
	batch, side := dims[0], dims[1]
	idx := patchIndices(batch, side, k, stride)
	// Indices are [N,1]: Gather rejects indices of a rank above the operand's rank + 1.
	return Gather(withPadRows(x), Const(x.Graph(), idx))
}

// withPadRows returns the positions of x [B,H,W,C] as rows, [(B+1)·H·W, C], followed by rows
// of zeros: row B·H·W and the rest, so that padding is just an index for a Gather. The pad
// rows are a whole image's, appended before the reshape: the Reshape then takes the
// concatenation's buffer as it is, where a reshape of x itself, still in use elsewhere, would
// copy it first (about 3% of a native step).
func withPadRows(x *Node) *Node {
	d := x.Shape().Dimensions
	padImage := BroadcastToDims(ScalarZero(x.Graph(), x.DType()), 1, d[1], d[2], d[3])
	return Reshape(Concatenate([]*Node{x, padImage}, 0), (d[0]+1)*d[1]*d[2], d[3])
}

// patchIndices returns, for every output position and tap, the row of the flattened input, or
// batch*side*side (the pad row) where the tap falls in the padding. Shape [N,1].
func patchIndices(batch, side, k, stride int) *tensors.Tensor {
	outSide := sameOut(side, stride)
	before, _ := samePads(side, k, stride)
	padRow := int32(batch * side * side)
	idx := make([]int32, 0, batch*outSide*outSide*k*k)
	for b := range batch {
		for oy := range outSide {
			for ox := range outSide {
				for ky := range k {
					for kx := range k {
						iy, ix := oy*stride+ky-before, ox*stride+kx-before
						if iy < 0 || iy >= side || ix < 0 || ix >= side {
							idx = append(idx, padRow)
						} else {
							idx = append(idx, int32((b*side+iy)*side+ix))
						}
					}
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// matMul multiplies a [M,K] by b [K,N] with a hand-written gradient: dA = dY·Bᵀ and dB = Aᵀ·dY,
// each one DotGeneral. GoMLX's generic DotGeneral gradient broadcasts to [M,K,N] first, which
// made training about 8x slower on simplego.
//
// IdentityWithCustomGradient sets the gradient of one node only, so the output's adjoint is
// captured by an identity on the output and used by identities on both inputs. Autodiff visits
// the output first, since it depends on the inputs. The generic gradient of the DotGeneral in
// between is still built, but nothing uses it, so no backend runs it.
func matMul(a, b *Node) *Node {
	if a.Rank() != 2 || b.Rank() != 2 || a.Shape().Dimensions[1] != b.Shape().Dimensions[0] {
		panic(fmt.Sprintf("matMul: incompatible shapes %s and %s", a.Shape(), b.Shape()))
	}
	var dY *Node
	aID := IdentityWithCustomGradient(a, func(_, _ *Node) *Node {
		return DotGeneral(dY, []int{1}, nil, b, []int{1}, nil)
	})
	bID := IdentityWithCustomGradient(b, func(_, _ *Node) *Node {
		return DotGeneral(a, []int{0}, nil, dY, []int{0}, nil)
	})
	y := DotGeneral(aID, []int{1}, nil, bID, []int{0}, nil)
	return IdentityWithCustomGradient(y, func(_, v *Node) *Node {
		dY = v
		return v
	})
}

// crossEntropy is the mean softmax cross-entropy of logits [B,10] against int32 labels [B].
func crossEntropy(logits, labels *Node) *Node {
	logProbs := LogSoftmax(logits, -1)
	oneHot := OneHot(labels, mnist.NumClasses, logProbs.DType())
	return Neg(ReduceAllMean(ReduceSum(Mul(oneHot, logProbs), -1)))
}

// relu is max(x, 0): one pass forward (kernels.MaxScalar32), where x times its 0/1 mask took
// three (a comparison, a conversion of its booleans, a product). Its gradient is written by hand,
// as matMul's is, dY·reluMask(y): GoMLX's gradient of Max builds several full-size comparisons,
// and gives 1 where x = 0, where TF gives 0. The generic gradient in between is built but unused,
// so no backend runs it. The maximum is with a scalar 0, not ZerosLike(x), which would fill a
// full-size tensor of zeros every step.
func relu(x *Node) *Node {
	var dY, y *Node
	xID := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
		return Mul(dY, StopGradient(reluMask(y)))
	})
	y = Max(xID, ScalarZero(x.Graph(), x.DType()))
	return IdentityWithCustomGradient(y, func(_, v *Node) *Node {
		dY = v
		return v
	})
}

// reluMask is ReLU's derivative, as TF's, from its output y = relu(x): 1 where x > 0, else 0
// (NaN included). That is y's sign (+0 for NaN in simplego, kernels.Sign32): one pass, where
// comparing x with 0 and converting the booleans took two.
func reluMask(y *Node) *Node { return Sign(y) }
