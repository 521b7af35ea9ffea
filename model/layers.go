package model

// The network, declared once: Config.layers lists its layers in order, each with its shapes, its
// kernel and stride, and its activation. Everything else iterates that list: the parameters
// (Params, NumParams) and the multiply-adds (MACsPerImage) here, the forward graph (segment, in
// network.go), the sharded and solo backward passes (convBackward and denseBackward, shard.go),
// the memory estimate (memory.go) and the visualisation data (visual.go).
//
// Every conv layer is followed by its ReLU and a batch-statistics normalisation, which cuts the
// network into segments (see segment): segment k ends with conv layer k, and the last segment is
// what follows the last conv: max-pools, then the dense layers, the last of which gives the
// logits. Within those rules, adding a layer is one line of Config.layers.

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/mnist-trainer/mnist/mnist"
)

// layerKind is what a layer computes.
type layerKind int

const (
	// convLayer is a k×k conv with TF "SAME" padding, + bias → ReLU → batch-statistics
	// normalisation; it ends a segment.
	convLayer layerKind = iota
	// poolLayer is a max-pool, poolWindow×poolWindow, stride poolStride, TF "SAME".
	poolLayer
	// denseLayer is x·kernel + bias → its activation; the first flattens its input.
	denseLayer
)

// activation is a dense layer's non-linearity.
type activation int

const (
	linear activation = iota // the output logits
	reluAct
	sigmoidAct
)

// layer is one block of the network, for one image.
type layer struct {
	name string // names its parameters ("<name>.kernel", "<name>.bias") and its memory parts
	kind layerKind
	// inSide×inSide×in is its input and side×side×out its output (conv and pool); a dense
	// layer's are vectors of in and out values (sides 1), its input flattened if it was not.
	inSide, in, side, out int
	k, stride             int        // conv: kernel side and stride; pool: window and stride
	act                   activation // dense
}

// layers lists the network of c in order: the course notebook's, with c's sizes.
func (c Config) layers() []layer {
	n := &network{side: mnist.ImageSize, channels: 1}
	n.conv("conv1", c.Filters[0], c.KernelSize, c.Stride)
	n.pool("pool1")
	n.conv("conv2", c.Filters[1], c.KernelSize, 1)
	n.conv("conv3", c.Filters[2], c.KernelSize, 1)
	n.pool("pool3")
	n.dense("dense1", c.Dense[0], reluAct)
	n.dense("dense2", c.Dense[1], sigmoidAct)
	n.dense("output", mnist.NumClasses, linear)
	return n.layers
}

// network builds a list of layers, each taking the previous one's output.
type network struct {
	side, channels int // the output of the last layer so far
	layers         []layer
}

func (n *network) add(l layer) {
	l.inSide, l.in = n.side, n.channels
	n.side, n.channels = l.side, l.out
	n.layers = append(n.layers, l)
}

func (n *network) conv(name string, filters, k, stride int) {
	n.add(layer{name: name, kind: convLayer, side: sameOut(n.side, stride), out: filters, k: k, stride: stride})
}

func (n *network) pool(name string) {
	n.add(layer{name: name, kind: poolLayer, side: sameOut(n.side, poolStride), out: n.channels, k: poolWindow, stride: poolStride})
}

func (n *network) dense(name string, width int, act activation) {
	n.side, n.channels = 1, n.side*n.side*n.channels // flattened
	n.add(layer{name: name, kind: denseLayer, side: 1, out: width, act: act})
}

// dims is the layer's output for batch images: [batch, side, side, out], or [batch, out] for a
// dense layer.
func (l layer) dims(batch int) []int {
	if l.kind == denseLayer {
		return []int{batch, l.out}
	}
	return []int{batch, l.side, l.side, l.out}
}

// params are the layer's trainable tensors: none for a max-pool.
func (l layer) params() []ParamSpec {
	var kernel []int
	receptive := 1
	switch l.kind {
	case convLayer:
		kernel, receptive = []int{l.k, l.k, l.in, l.out}, l.k*l.k
	case denseLayer:
		kernel = []int{l.in, l.out}
	default:
		return nil
	}
	return []ParamSpec{
		{Name: l.name + ".kernel", Shape: kernel, FanIn: l.in * receptive, FanOut: l.out * receptive},
		// TF's glorot_uniform on a 1-D shape uses fan_in = fan_out = its length.
		{Name: l.name + ".bias", Shape: []int{l.out}, FanIn: l.out, FanOut: l.out},
	}
}

// macs is the layer's multiply-adds for one image: none for a max-pool.
func (l layer) macs() int {
	switch l.kind {
	case convLayer:
		return l.side * l.side * l.k * l.k * l.in * l.out
	case denseLayer:
		return l.in * l.out
	}
	return 0
}

// segments cuts the layers at the normalisations: segment k ends with conv layer k (the max-pools
// before it come first), and the last one holds the layers after the last conv.
func (c Config) segments() [][]layer {
	var segs [][]layer
	var seg []layer
	for _, l := range c.layers() {
		seg = append(seg, l)
		if l.kind == convLayer {
			segs, seg = append(segs, seg), nil
		}
	}
	segs = append(segs, seg)
	if len(segs) != numSegments {
		panic(fmt.Sprintf("the network has %d segments, numSegments says %d", len(segs), numSegments))
	}
	return segs
}

// convLayers are the conv layers, in order: conv layer k ends segment k.
func (c Config) convLayers() []layer {
	var convs []layer
	for _, l := range c.layers() {
		if l.kind == convLayer {
			convs = append(convs, l)
		}
	}
	return convs
}

// flat is the length of the first dense layer's input: the last conv block's output, flattened.
func (c Config) flat() int {
	for _, l := range c.layers() {
		if l.kind == denseLayer {
			return l.in
		}
	}
	return 0
}

// Params lists the network's trainable tensors in network order.
func (c Config) Params() []ParamSpec {
	var specs []ParamSpec
	for _, l := range c.layers() {
		specs = append(specs, l.params()...)
	}
	return specs
}

// segmentParams returns the ParamSpecs of segment k, in Config.Params order.
func (c Config) segmentParams(k int) []ParamSpec {
	var specs []ParamSpec
	for _, l := range c.segments()[k] {
		specs = append(specs, l.params()...)
	}
	return specs
}

// NumParams returns the number of trainable values; 372,746 for the notebook's configuration.
func (c Config) NumParams() int {
	n := 0
	for _, p := range c.Params() {
		n += p.Size()
	}
	return n
}

// MACsPerImage returns the multiply-adds of one image's forward pass through the convolutions
// and dense layers: 4.85 million for the notebook's configuration. A training step costs about
// three times as much per image (forward, and two products per layer backwards), so speeds of
// configurations scale about inversely with it.
func (c Config) MACsPerImage() int {
	macs := 0
	for _, l := range c.layers() {
		macs += l.macs()
	}
	return macs
}

// apply builds the layer on x, the output of the layer before it (segment k's input for its
// first layer), with GoMLX's Convolve if f.native. A conv layer applies its ReLU and
// is remembered in f as conv k; the normalisation after it is its segment's caller's.
func (l layer) apply(w weights, k int, x *Node, f *forward) *Node {
	switch l.kind {
	case convLayer:
		return f.convReLU(k, l, x, w)
	case poolLayer:
		return maxPool(x)
	}
	if x.Rank() != 2 {
		x = Reshape(x, x.Shape().Dimensions[0], l.in)
	}
	return l.act.apply(dense(x, w, l.name))
}

// apply is the activation of x.
func (a activation) apply(x *Node) *Node {
	switch a {
	case reluAct:
		return relu(x)
	case sigmoidAct:
		return Sigmoid(x)
	}
	return x
}
