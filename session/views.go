package session

// This file holds what the page draws of a model: its kernels, its feature maps of an image, and
// its prediction for a drawing.

import (
	"fmt"
	"strconv"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// Pixels are grey levels 0..255, row-major, that JSON carries as an array of numbers, not as
// base64 text.
type Pixels []byte

// MarshalJSON writes the grey levels as a JSON array of numbers.
func (p Pixels) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 4*len(p)+2)
	b = append(b, '[')
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return append(b, ']'), nil
}

// Drawing is a grey-scale drawing of width × height (0 background, 255 ink), row-major.
type Drawing struct {
	Pixels        []byte
	Width, Height int
}

// centred returns d centred as MNIST digits are (mnist.CenterDigit): the network's input.
func (d Drawing) centred() ([]byte, error) {
	return mnist.CenterDigit(d.Pixels, d.Width, d.Height)
}

// Input is featureMaps' image: the test image Index, or Drawing when it is set.
type Input struct {
	Index   int
	Drawing *Drawing
}

// KernelLayer is one conv layer's kernels, as the page draws them.
type KernelLayer struct {
	Layer  string   `json:"layer"`
	Size   int      `json:"size"`
	In     int      `json:"in"`
	Out    int      `json:"out"`
	Images []Pixels `json:"images"` // each filter's kernel on input channel 0, scaled to 0..255
}

// Kernels returns the current model's kernels.
func (s *Session) Kernels() ([]KernelLayer, error) {
	return kernelImages(s.model())
}

// kernelImages is what Kernels answers for m: the current model, or one Inspect loaded.
func kernelImages(m *model.Model) ([]KernelLayer, error) {
	layers, err := m.Kernels()
	if err != nil {
		return nil, err
	}
	var out []KernelLayer
	for _, k := range layers {
		l := KernelLayer{Layer: k.Layer, Size: k.Size, In: k.In, Out: k.Out}
		for o := range k.Out {
			l.Images = append(l.Images, model.NormalizeForDisplay(k.Kernel(0, o)))
		}
		out = append(out, l)
	}
	return out, nil
}

// Prediction is the current model's answer for a drawing.
type Prediction struct {
	Probabilities [mnist.NumClasses]float32 `json:"probabilities"`
	Input         Pixels                    `json:"input"` // the centred 28x28 image the network saw
}

// Predict returns the current model's probabilities for d, centred as MNIST digits are.
func (s *Session) Predict(d Drawing) (*Prediction, error) {
	img, err := d.centred()
	if err != nil {
		return nil, err
	}
	probs, err := s.model().Probabilities(img)
	if err != nil {
		return nil, err
	}
	return &Prediction{probs, img}, nil
}

// Features answers featureMaps: the network's input and what each conv layer makes of it.
type Features struct {
	Index  int            `json:"index"` // -1 for a drawing
	Label  int            `json:"label"` // -1 for a drawing
	Input  Pixels         `json:"input"`
	Layers []FeatureLayer `json:"layers"`
}

// FeatureLayer is one conv layer's feature maps, each scaled to 0..255.
type FeatureLayer struct {
	Layer    string   `json:"layer"`
	Side     int      `json:"side"`
	Channels int      `json:"channels"`
	Maps     []Pixels `json:"maps"`
}

// FeatureMaps returns the current model's feature maps of src.
func (s *Session) FeatureMaps(src Input) (*Features, error) {
	return s.featureMaps(s.model(), src)
}

// featureMaps is what FeatureMaps answers for m (the current model, or one Inspect loaded).
func (s *Session) featureMaps(m *model.Model, src Input) (*Features, error) {
	result := &Features{Index: -1, Label: -1}
	if src.Drawing == nil {
		i := src.Index
		s.mu.Lock()
		test := s.test
		s.mu.Unlock()
		if test == nil {
			return nil, errNotLoaded
		}
		if i < 0 || i >= test.Len() {
			return nil, fmt.Errorf("test image %d does not exist: pick 0..%d", i, test.Len()-1)
		}
		result.Index, result.Label, result.Input = i, int(test.Labels[i]), test.Image(i)
	} else {
		img, err := src.Drawing.centred()
		if err != nil {
			return nil, err
		}
		result.Input = img
	}
	maps, err := m.FeatureMaps(result.Input)
	if err != nil {
		return nil, err
	}
	for _, f := range maps {
		l := FeatureLayer{Layer: f.Layer, Side: f.Side, Channels: f.Channels}
		for c := range f.Channels {
			l.Maps = append(l.Maps, model.NormalizeForDisplay(f.Map(c)))
		}
		result.Layers = append(result.Layers, l)
	}
	return result, nil
}
