package model

import (
	"bytes"
	"runtime"
	"testing"
)

// TestLoadCopiesWeightsOnce: Load reads a file's weights in place and copies them once, into the
// model's tensors; with Adam's two moments, which start at zero, a model holds three times its
// weights. Before, the file was decoded into float32s, copied again, and copied into the tensors:
// five times the weights allocated, in a browser heap that never shrinks.
func TestLoadCopiesWeightsOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dense = [2]int{1024, 1024} // 7 MB of weights: what Load allocates stands out from the rest
	var file bytes.Buffer
	if err := newTestModel(t, cfg).Save(&file); err != nil {
		t.Fatal(err)
	}
	data := file.Bytes()
	weights := uint64(4 * cfg.NumParams())
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := Load(mustBackend(t), data)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte file of %d bytes of weights: Load allocated %d bytes, %.2f times the weights", len(data), weights, allocated, float64(allocated)/float64(weights))
	if allocated > weights*33/10 {
		t.Errorf("Load allocated %d bytes for %d bytes of weights: more than the model's tensors and Adam's moments", allocated, weights)
	}
	probe := make([]byte, 784)
	if _, err := m.Predict(probe); err != nil {
		t.Fatal(err)
	}
}
