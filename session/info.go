package session

// This file holds what the page builds its controls from (Info) and what it shows of a
// configuration (Summary): plain structs, which the JS adapter hands over as JSON, field names
// and all.

import (
	"fmt"
	"strings"

	"github.com/mnist-trainer/mnist/kernels"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// Info is what the page needs to build its controls and fetch the data.
type Info struct {
	Fields  []FieldInfo  `json:"fields"`
	Presets []PresetInfo `json:"presets"`
	Files   []FileInfo   `json:"files"`
	// MaxWeightsBytes is the size of the largest weights file of a network a tab can train
	// (model.MaxWeightsFileSize): the page refuses a larger one without reading it.
	MaxWeightsBytes int `json:"maxWeightsBytes"`
	// Kernels says which compute kernels this build runs: "SIMD ×4" (WebAssembly SIMD128, see
	// kernels/README.md) or "generic" (simplego as shipped); KernelList names each family.
	Kernels    string   `json:"kernels"`
	KernelList []string `json:"kernelList"`
	// NotebookMACs is the notebook network's multiply-adds per image: the page's estimates scale
	// its typical speed, which is that network's, by it (web/estimate.js).
	NotebookMACs int `json:"notebookMacs"`
}

// FieldInfo is one setting of model.Fields.
type FieldInfo struct {
	Key   string `json:"key"`
	Usage string `json:"usage"`
	Value string `json:"value"` // the notebook's value
	// The setting's limits, as model.Field has them: the page's controls read them.
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	MinExclusive bool    `json:"minExclusive,omitempty"`
	Integer      bool    `json:"integer,omitempty"`
	Count        int     `json:"count,omitempty"`
}

// PresetInfo is one of model.Presets, with its values as text.
type PresetInfo struct {
	Name   string            `json:"name"`
	Title  string            `json:"title"`
	Values map[string]string `json:"values"`
}

// FileInfo is one of the MNIST files the page fetches.
type FileInfo struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	// SHA256 (lowercase hex) keys the page's cached copy: a changed file is a new key.
	SHA256 string `json:"sha256"`
	// TrainImages marks the training images, which the page keeps unpacked (UnpackImages) and
	// does not pass to LoadData.
	TrainImages bool `json:"trainImages,omitempty"`
}

// NewInfo returns the page's Info: the settings with the notebook's values, the presets, the
// MNIST files, the largest weights file, the kernels of this build and the notebook network's
// multiply-adds.
func NewInfo() Info {
	var in Info
	def := model.DefaultConfig()
	for _, f := range model.Fields() {
		in.Fields = append(in.Fields, FieldInfo{Key: f.Key, Usage: f.Usage, Value: f.Get(&def),
			Min: f.Min, Max: f.Max, MinExclusive: f.MinExclusive, Integer: f.Integer, Count: f.Count})
	}
	for _, p := range model.Presets() {
		in.Presets = append(in.Presets, PresetInfo{Name: p.Name, Title: p.Title, Values: Values(p.Config)})
	}
	for _, f := range mnist.KnownFiles {
		in.Files = append(in.Files, FileInfo{Name: f.Name, Size: f.Size, SHA256: f.SHA256, TrainImages: f.Name == mnist.TrainImagesFile})
	}
	in.MaxWeightsBytes = model.MaxWeightsFileSize()
	in.Kernels, in.KernelList = kernels.Summary(), kernels.Active()
	in.NotebookMACs = def.MACsPerImage()
	return in
}

// Values returns cfg as text, by setting key.
func Values(cfg model.Config) map[string]string {
	v := make(map[string]string)
	for _, f := range model.Fields() {
		v[f.Key] = f.Get(&cfg)
	}
	return v
}

// Summary is the model summary: the trainable parameters of each layer.
type Summary struct {
	Layers []LayerSummary `json:"layers"`
	Total  int            `json:"total"`
	// MACs is the multiply-adds of one image's forward pass (model.Config.MACsPerImage): the
	// page scales a measured speed by it to estimate another configuration's.
	MACs int `json:"macs"`
	// Memory is the configuration's memory estimate, with what the page says about it.
	Memory MemorySummary `json:"memory"`
}

// LayerSummary is one layer's parameters.
type LayerSummary struct {
	Name   string `json:"name"`
	Shapes string `json:"shapes"` // e.g. "3×3×1×32 + 32": kernel and bias
	Params int    `json:"params"`
}

// BrowserRoom says whose the memory limit is, in model.MemoryEstimate.Check's refusals.
const BrowserRoom = "a browser tab can give it"

// memoryWarning is the estimate above which the page warns before Train: a network that takes
// a sizeable share of a tab's 4 GB (Go's heap grows to about twice the estimate) and trains slowly.
const memoryWarning = 500_000_000

// MemorySummary is model.Config.MemoryEstimate, in bytes, and the page's verdict on it.
type MemorySummary struct {
	model.MemoryEstimate
	// Limit is model.BrowserMemoryLimit: the largest Peak the page trains.
	Limit int64 `json:"limit"`
	// Refusal, when Peak is above Limit, says so (model.MemoryEstimate.Check's message, which
	// starts with Keys[0]); Train refuses such a configuration. Empty when it fits.
	Refusal string `json:"refusal"`
	// Warning, when Peak is above memoryWarning but within Limit, says how much memory the network
	// needs, what drives it and what needs less. Empty otherwise.
	Warning string `json:"warning"`
}

func summarizeMemory(cfg model.Config) MemorySummary {
	e := cfg.MemoryEstimate()
	s := MemorySummary{MemoryEstimate: e, Limit: model.BrowserMemoryLimit}
	if err := e.Check(model.BrowserMemoryLimit, BrowserRoom); err != nil {
		s.Refusal = err.Error()
	} else if e.Peak > memoryWarning {
		s.Warning = fmt.Sprintf("This network needs %s. That is a lot for a browser tab (the page refuses more than %s): %s",
			e, model.FormatBytes(model.BrowserMemoryLimit), lowerFirst(e.Advice()))
	}
	return s
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Summarize returns cfg's summary.
func Summarize(cfg model.Config) Summary {
	var s Summary
	for _, p := range cfg.Params() {
		layer, _, _ := strings.Cut(p.Name, ".")
		if n := len(s.Layers); n == 0 || s.Layers[n-1].Name != layer {
			s.Layers = append(s.Layers, LayerSummary{Name: layer})
		}
		l := &s.Layers[len(s.Layers)-1]
		dims := make([]string, len(p.Shape))
		for i, d := range p.Shape {
			dims[i] = fmt.Sprint(d)
		}
		if l.Shapes != "" {
			l.Shapes += " + "
		}
		l.Shapes += strings.Join(dims, "×")
		l.Params += p.Size()
		s.Total += p.Size()
	}
	s.MACs = cfg.MACsPerImage()
	s.Memory = summarizeMemory(cfg)
	return s
}

// ConfigResult answers Configure, Describe and ImportWeights.
type ConfigResult struct {
	Values  map[string]string `json:"values"`
	Summary Summary           `json:"summary"`
}

// NewConfigResult returns cfg's values and summary.
func NewConfigResult(cfg model.Config) ConfigResult {
	return ConfigResult{Values: Values(cfg), Summary: Summarize(cfg)}
}
