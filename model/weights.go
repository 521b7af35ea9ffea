package model

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/safetensors"
)

// Weight files are safetensors files whose metadata says what they are and how to rebuild the
// network: the format name, its version and the Config as JSON. That makes a file self-describing:
// the browser and the native command can load each other's files from bytes alone.
const (
	weightsFormat  = "mnist-trainer-weights"
	weightsVersion = "1"
)

// Metadata keys of a weights file.
const (
	metaFormat  = "format"
	metaVersion = "version"
	metaConfig  = "config"
)

// Save writes the model's configuration and weights to w as a safetensors file. Optimiser state is
// not saved: the file reproduces predictions, and training restarts Adam's moments.
func (m *Model) Save(w io.Writer) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "saving weights")
	cfgJSON, err := json.Marshal(m.cfg)
	if err != nil {
		return err
	}
	var named []safetensors.Tensor
	for _, p := range m.cfg.Params() {
		t, err := m.vars[p.Name].Value()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p.Name, err)
		}
		named = append(named, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: tensors.MustCopyFlatData[float32](t)})
	}
	meta := map[string]string{metaFormat: weightsFormat, metaVersion: weightsVersion, metaConfig: string(cfgJSON)}
	return safetensors.Encode(w, meta, named)
}

// MaxWeightsFileSize is the most bytes a weights file the browser trainer can use can have: the
// most parameters of any configuration within BrowserMemoryLimit (maxTrainableParams), in
// float32, after the longest header the reader takes. A larger file holds a network too large to
// train or evaluate in a browser tab, and a caller can refuse it without reading it.
func MaxWeightsFileSize() int {
	return 8 + safetensors.MaxHeaderLen + 4*maxTrainableParams
}

// Load builds a model on backend from a weights file written by Save. Every problem, from a file
// that is not safetensors at all to one tensor of the wrong shape or one value that is NaN or
// infinite, is an error saying which; the caller's current model is never touched, so a bad upload
// loses nothing. A single NaN would make every probability NaN, so such a file loads no model.
//
// It reads the weights from data in place and copies them once, into the model's tensors: data
// must not change during the call, and may be reused after it.
func Load(backend backends.Backend, data []byte) (*Model, error) {
	meta, named, err := safetensors.DecodeInPlace(data)
	if err != nil {
		return nil, err
	}
	if f := meta[metaFormat]; f != weightsFormat {
		if f == "" {
			return nil, fmt.Errorf("weights file: a safetensors file, but not one of this trainer's (no %q metadata)", metaFormat)
		}
		return nil, fmt.Errorf("weights file: format %q is not %q", f, weightsFormat)
	}
	if v := meta[metaVersion]; v != weightsVersion {
		return nil, fmt.Errorf("weights file: version %q is not supported (this trainer reads version %s)", v, weightsVersion)
	}
	var cfg Config
	dec := json.NewDecoder(strings.NewReader(meta[metaConfig]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("weights file: its configuration is unreadable: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("weights file: its configuration is invalid: %w", err)
	}

	byName := make(map[string]safetensors.Tensor, len(named))
	for _, t := range named {
		byName[t.Name] = t
	}
	values := make(map[string][]float32)
	for _, p := range cfg.Params() {
		t, ok := byName[p.Name]
		if !ok {
			return nil, fmt.Errorf("weights file: tensor %s is missing", p.Name)
		}
		if !equalInts(t.Shape, p.Shape) {
			return nil, fmt.Errorf("weights file: tensor %s has shape %v, but its configuration (%s) needs %v",
				p.Name, t.Shape, cfg, p.Shape)
		}
		if i := slices.IndexFunc(t.Data, notFinite); i >= 0 {
			return nil, fmt.Errorf("weights file: tensor %s holds %v at index %d (of %d values), and weights must be finite numbers",
				p.Name, t.Data[i], i, len(t.Data))
		}
		values[p.Name] = t.Data
		delete(byName, p.Name)
	}
	for name := range byName {
		return nil, fmt.Errorf("weights file: unexpected tensor %s for this network", name)
	}
	return newWithValues(backend, cfg, values)
}

// notFinite reports whether v is NaN or infinite.
func notFinite(v float32) bool {
	return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
