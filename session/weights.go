package session

// This file holds weights files both ways (ExportWeights, ImportWeights) and inspect: the kernels
// and feature maps of a model the page has stored, loaded beside the current one, which it never
// replaces.

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/mnist-trainer/mnist/model"
)

// ExportWeights returns the current model as a safetensors weights file.
func (s *Session) ExportWeights() ([]byte, error) {
	return weightsFile(s.model())
}

// weightsFile returns m as a safetensors weights file (model.Save): what ExportWeights gives the
// page, and what Train keeps of the model before a run.
func weightsFile(m *model.Model) ([]byte, error) {
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CheckWeightsSize refuses a weights file of size bytes that is too large to be one of this
// trainer's (model.MaxWeightsFileSize), so that a caller need not copy it first: Go's memory
// never shrinks.
func CheckWeightsSize(size int) error {
	if size > model.MaxWeightsFileSize() {
		return Coded(CodeInvalidWeights, "", fmt.Errorf("weights file: %d MB, more than any weights file of this trainer (at most %d MB)",
			size/1e6, model.MaxWeightsFileSize()/1e6))
	}
	return nil
}

// errStopFirst refuses to replace the current model while a run trains it.
var errStopFirst = Coded(CodeBusy, "", errors.New("stop the training run before importing weights"))

// ImportWeights makes the model in the weights file data the current one, and its configuration
// that of the next run; a bad file changes nothing. locked is what the course fixed (CheckLocked),
// nil for nothing.
func (s *Session) ImportWeights(data []byte, locked map[string]string) (ConfigResult, error) {
	s.mu.Lock()
	busy := s.run != nil
	s.mu.Unlock()
	if busy {
		return ConfigResult{}, errStopFirst
	}
	m, err := s.loadWeights(data)
	if err != nil {
		return ConfigResult{}, err
	}
	if err := CheckLocked(m.Config(), locked); err != nil {
		return ConfigResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return ConfigResult{}, errStopFirst
	}
	s.current, s.cfg, s.eval = m, m.Config(), nil
	s.limitMemory()
	return NewConfigResult(m.Config()), nil
}

// loadWeights parses a weights file into a model (model.Load, whose message says what is wrong
// with a bad file). A network the tab cannot hold even at batch 1 is refused; one it can
// evaluate, but not train at its file's batch size, is taken, and after ImportWeights the page
// shows why Train refuses (Summary.Memory.Refusal) until the batch is changed.
func (s *Session) loadWeights(data []byte) (*model.Model, error) {
	if err := CheckWeightsSize(len(data)); err != nil {
		return nil, err
	}
	m, err := model.Load(s.backend, data)
	if err != nil {
		return nil, Coded(CodeInvalidWeights, "", err)
	}
	atOne := m.Config()
	atOne.BatchSize = 1
	if err := atOne.CheckMemory(model.BrowserMemoryLimit, BrowserRoom); err != nil {
		var fe *model.FieldError
		if errors.As(err, &fe) {
			err = fe.Err // without the setting's name: the file's settings are not the page's
		}
		return nil, Coded(CodeInvalidWeights, "", fmt.Errorf("weights file: %w", err))
	}
	return m, nil
}

// inspectModels is how many models Inspect keeps loaded. The page compares a few stored runs side
// by side and asks again for each one whenever another image is picked: parsing a file once per
// run, not once per request, keeps that quick, and four bound what they hold (weights, and a
// compiled feature-map graph each) to what a comparison needs.
const inspectModels = 4

// inspectCache holds the models Inspect loaded, by the page's key, most recently used first.
type inspectCache struct {
	mu      sync.Mutex
	entries []inspected
}

type inspected struct {
	key string
	m   *model.Model
}

// get returns the model of key, now the most recently used, or nil.
func (c *inspectCache) get(key string) *model.Model {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e.m
		}
	}
	return nil
}

// put makes m the model of key, the most recently used, dropping the least recently used model
// beyond inspectModels.
func (c *inspectCache) put(key string, m *model.Model) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			break
		}
	}
	c.entries = append([]inspected{{key, m}}, c.entries...)
	if len(c.entries) > inspectModels {
		c.entries[inspectModels] = inspected{} // let the dropped model be collected
		c.entries = c.entries[:inspectModels]
	}
}

// drop forgets every model, so that a training run gets their memory (Train).
func (c *inspectCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}

// Stored is a model Inspect loaded, beside the current one.
type Stored struct{ m *model.Model }

// LoadStored returns the model of the page's key, which names one weights file: loaded from the
// file weights returns, as ImportWeights loads one, the first time, and kept among the last
// inspectModels keys' after that, when weights is not called, until a training run starts
// (Train). When weights returns no file (nil, nil) for a key not loaded, it fails with code
// "no-model", and the page sends the file.
func (s *Session) LoadStored(key string, weights func() ([]byte, error)) (Stored, error) {
	if m := s.inspected.get(key); m != nil {
		return Stored{m}, nil
	}
	data, err := weights()
	if err != nil {
		return Stored{}, err
	}
	if data == nil {
		return Stored{}, Coded(CodeNoModel, "", fmt.Errorf("inspect: no model for key %q; send its weights", key))
	}
	m, err := s.loadWeights(data)
	if err != nil {
		return Stored{}, err
	}
	s.inspected.put(key, m)
	return Stored{m}, nil
}

// Inspection is what inspect answers: a stored model's kernels, and its feature maps of an image.
type Inspection struct {
	Kernels  []KernelLayer `json:"kernels"`
	Features *Features     `json:"features"`
}

// Inspect returns the kernels of st and its feature maps of src. The model is one of its own, so
// this neither waits for nor touches a run.
func (s *Session) Inspect(st Stored, src Input) (*Inspection, error) {
	kernels, err := kernelImages(st.m)
	if err != nil {
		return nil, err
	}
	maps, err := s.featureMaps(st.m, src)
	if err != nil {
		return nil, err
	}
	return &Inspection{kernels, maps}, nil
}
