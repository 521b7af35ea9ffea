package model

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/mnist"
)

// LayerKernels holds the kernels of one conv layer.
type LayerKernels struct {
	// Layer is "conv1", "conv2" or "conv3".
	Layer string `json:"layer"`
	// Size is the kernel side K; In and Out the input channels and filters.
	Size int `json:"size"`
	In   int `json:"in"`
	Out  int `json:"out"`
	// Weights is the kernel tensor in TF's HWIO layout [K][K][In][Out], row-major: the weight of
	// row y, column x, input channel i, filter o is at ((y*K+x)*In+i)*Out+o.
	Weights []float32 `json:"weights"`
}

// Kernel returns the K*K weights (row-major) that filter out applies to input channel in, or nil
// if either is out of range: the small image the notebook shows for each kernel.
func (k LayerKernels) Kernel(in, out int) []float32 {
	if in < 0 || in >= k.In || out < 0 || out >= k.Out {
		return nil
	}
	v := make([]float32, k.Size*k.Size)
	for p := range v {
		v[p] = k.Weights[(p*k.In+in)*k.Out+out]
	}
	return v
}

// Kernels returns a copy of the kernels of the three conv layers.
func (m *Model) Kernels() (out [3]LayerKernels, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "reading kernels")
	for i, l := range m.cfg.convLayers() {
		t, err := m.vars[l.name+".kernel"].Value()
		if err != nil {
			return out, err
		}
		out[i] = LayerKernels{Layer: l.name, Size: l.k, In: l.in, Out: l.out, Weights: tensors.MustCopyFlatData[float32](t)}
	}
	return out, nil
}

// FeatureMaps holds the post-ReLU activations of one conv layer for one image.
type FeatureMaps struct {
	// Layer is "conv1", "conv2" or "conv3".
	Layer string `json:"layer"`
	// Side is the spatial size; Channels the number of maps (the layer's filters).
	Side     int `json:"side"`
	Channels int `json:"channels"`
	// Values is [Side][Side][Channels], row-major (NHWC without the batch axis).
	Values []float32 `json:"values"`
}

// Map returns channel c as Side*Side values, row-major, or nil if c is out of range.
func (f FeatureMaps) Map(c int) []float32 {
	if c < 0 || c >= f.Channels {
		return nil
	}
	v := make([]float32, f.Side*f.Side)
	for p := range v {
		v[p] = f.Values[p*f.Channels+c]
	}
	return v
}

// FeatureMaps returns the activations of each conv layer, after its ReLU, for one 28x28 image
// (784 MNIST bytes): what each layer "sees".
func (m *Model) FeatureMaps(image []byte) (out [3]FeatureMaps, err error) {
	if len(image) != mnist.ImageSize*mnist.ImageSize {
		return out, fmt.Errorf("an image has %d pixels, got %d", mnist.ImageSize*mnist.ImageSize, len(image))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "computing feature maps")
	if m.featureExec == nil {
		exec, err := context.NewExec(m.backend, m.ctx, func(ctx *context.Context, images *Node) []*Node {
			f := buildForward(m.cfg, m.graphWeights(images.Graph()), images, m.native)
			return f.activations[:]
		})
		if err != nil {
			return out, err
		}
		m.featureExec = exec
	}
	results, err := m.exec(m.featureExec, imageTensor(image))
	if err != nil {
		return out, err
	}
	convs := m.cfg.convLayers()
	for i, t := range results {
		dims := t.Shape().Dimensions // [1, side, side, channels]
		out[i] = FeatureMaps{Layer: convs[i].name, Side: dims[1], Channels: dims[3], Values: flat(t)}
	}
	return out, nil
}

// NormalizeForDisplay maps values linearly onto 0..255 (minimum to 0, maximum to 255) for drawing
// as a grey-scale image. A constant input maps to mid-grey; NaNs map to 0.
func NormalizeForDisplay(values []float32) []uint8 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range values {
		if v == v { // skip NaN
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	out := make([]uint8, len(values))
	for i, v := range values {
		switch {
		case v != v:
			out[i] = 0
		case hi <= lo:
			out[i] = 128
		default:
			out[i] = uint8(math.Round(float64((v - lo) / (hi - lo) * 255)))
		}
	}
	return out
}
