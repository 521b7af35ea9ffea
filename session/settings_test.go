package session

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// TestSettings: configure takes a query string or key: value, names the setting at fault in a
// typed error, and describe answers the same without changing the next run's configuration.
func TestSettings(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseSettings("?preset=half-filters&epochs=3&utm_source=course")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Configure(q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Values["filters"] != "16,32,64" || res.Values["epochs"] != "3" || s.cfg.Epochs != 3 {
		t.Errorf("configure: values %v, next run's epochs %d", res.Values, s.cfg.Epochs)
	}
	d, err := Describe(SettingsOf(map[string]string{"kernel": "4", "dense": "64,64"}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Values["kernel"] != "4" || d.Values["dense"] != "64,64" || s.cfg.KernelSize != 3 || s.cfg.Epochs != 3 {
		t.Errorf("describe: values %v; the next run's kernel %d, epochs %d: describe changed them", d.Values, s.cfg.KernelSize, s.cfg.Epochs)
	}
	if _, err := ParseSettings("epochs=%zz"); err == nil || !strings.HasPrefix(err.Error(), "settings: ") {
		t.Errorf("a malformed query: %v", err)
	}
	for _, c := range []struct{ settings, key string }{
		{"epochs=ten", "epochs"}, {"batch=0", "batch"}, {"filters=8,16", "filters"}, {"lr=-1", "lr"}, {"preset=huge", "preset"},
	} {
		q, err := ParseSettings(c.settings)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Configure(q)
		wantCode(t, c.settings, err, CodeInvalidSetting, c.key)
		var fe *model.FieldError
		if c.key != "preset" && (!errors.As(err, &fe) || fe.Key != c.key) {
			t.Errorf("%s: %v is not a model.FieldError of %q", c.settings, err, c.key)
		}
		if _, derr := Describe(q); derr == nil || derr.Error() != err.Error() {
			t.Errorf("%s: describe says %v, configure %v", c.settings, derr, err)
		}
	}
	if s.cfg.Epochs != 3 {
		t.Errorf("a refused configuration changed the next run's: epochs %d", s.cfg.Epochs)
	}
}

// TestCheckLocked: a weights file's network may differ from what the course locked only in
// settings that shape no weight.
func TestCheckLocked(t *testing.T) {
	cfg := model.DefaultConfig() // filters 32,64,128, kernel 3
	for _, c := range []struct {
		locked map[string]string
		key    string // "" when the file is taken
	}{
		{nil, ""},
		{map[string]string{"filters": "32,64,128", "kernel": "3"}, ""},
		{map[string]string{"epochs": "9", "lr": "0.1", "batch": "8"}, ""}, // no weight changes
		{map[string]string{"filters": "16,32,64"}, "filters"},
		{map[string]string{"lr": "0.1", "kernel": "4", "dense": "64,64"}, "kernel"}, // the first in the settings' order
		{map[string]string{"dense": "lots"}, "dense"},                               // a value that is no setting's
	} {
		err := CheckLocked(cfg, c.locked)
		if c.key == "" {
			if err != nil {
				t.Errorf("locked %v: %v", c.locked, err)
			}
			continue
		}
		wantCode(t, "locked", err, CodeLocked, c.key)
		if err != nil && !strings.HasPrefix(err.Error(), c.key+": the course fixed it at "+c.locked[c.key]) {
			t.Errorf("locked %v: message %q", c.locked, err)
		}
	}
}

// TestSummary: the notebook network's summary, layer by layer, and the memory verdicts.
func TestSummary(t *testing.T) {
	s := Summarize(model.DefaultConfig())
	var names []string
	for _, l := range s.Layers {
		names = append(names, l.Name)
	}
	if strings.Join(names, " ") != "conv1 conv2 conv3 dense1 dense2 output" {
		t.Errorf("layers %v", names)
	}
	if s.Total != 372_746 || s.Layers[0].Shapes != "3×3×1×32 + 32" || s.Layers[0].Params != 320 || s.Layers[5].Shapes != "128×10 + 10" {
		t.Errorf("summary %+v", s)
	}
	if s.MACs <= 0 || s.Memory.Peak <= 0 || s.Memory.Limit != model.BrowserMemoryLimit || s.Memory.Refusal != "" || s.Memory.Warning != "" {
		t.Errorf("the notebook network: macs %d, memory %+v", s.MACs, s.Memory)
	}

	huge := model.DefaultConfig()
	huge.Filters, huge.KernelSize, huge.Stride = [3]int{512, 512, 512}, 7, 1
	if m := Summarize(huge).Memory; !strings.HasPrefix(m.Refusal, "filters") || m.Warning != "" {
		t.Errorf("a network too large: refusal %q, warning %q", m.Refusal, m.Warning)
	}
	// A batch between the warning and the limit: warned, not refused.
	warned := false
	for batch := 64; batch <= 4096 && !warned; batch *= 2 {
		cfg := model.DefaultConfig()
		cfg.BatchSize = batch
		m := Summarize(cfg).Memory
		if m.Peak > memoryWarning && m.Peak <= model.BrowserMemoryLimit {
			warned = true
			if m.Refusal != "" || !strings.HasPrefix(m.Warning, "This network needs ") {
				t.Errorf("batch %d, %d bytes: refusal %q, warning %q", batch, m.Peak, m.Refusal, m.Warning)
			}
		}
	}
	if !warned {
		t.Error("no batch size between 64 and 4096 is between the warning and the limit")
	}

	// The page reads these names.
	b, err := json.Marshal(NewConfigResult(model.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Values  map[string]string `json:"values"`
		Summary map[string]any    `json:"summary"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	memory, _ := v.Summary["memory"].(map[string]any)
	if v.Values["filters"] != "32,64,128" || v.Summary["total"] != 372_746.0 || v.Summary["macs"] == nil || v.Summary["layers"] == nil ||
		memory["limit"] == nil || memory["refusal"] != "" || memory["warning"] != "" || memory["peak"] == nil {
		t.Errorf("configure's JSON: %s", b)
	}
}

// TestInfo: the page's controls come from model.Fields and model.Presets, its downloads from
// mnist.KnownFiles.
func TestInfo(t *testing.T) {
	in := NewInfo()
	if len(in.Fields) != len(model.Fields()) || len(in.Presets) != len(model.Presets()) || len(in.Files) != len(mnist.KnownFiles) {
		t.Fatalf("info: %d fields, %d presets, %d files", len(in.Fields), len(in.Presets), len(in.Files))
	}
	def := Values(model.DefaultConfig())
	for _, f := range in.Fields {
		if f.Value != def[f.Key] || f.Usage == "" {
			t.Errorf("field %+v, want the notebook's value %q", f, def[f.Key])
		}
	}
	trainImages := 0
	for _, f := range in.Files {
		if f.TrainImages {
			trainImages++
			if f.Name != mnist.TrainImagesFile {
				t.Errorf("%s is marked as the training images", f.Name)
			}
		}
	}
	if trainImages != 1 || in.MaxWeightsBytes != model.MaxWeightsFileSize() || in.Kernels == "" || in.NotebookMACs != model.DefaultConfig().MACsPerImage() {
		t.Errorf("info %+v", in)
	}
	b, _ := json.Marshal(in)
	for _, key := range []string{`"fields":`, `"presets":`, `"files":`, `"maxWeightsBytes":`, `"kernels":`, `"kernelList":`, `"notebookMacs":`, `"trainImages":true`, `"sha256":`, `"usage":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("info's JSON has no %s", key)
		}
	}
}
