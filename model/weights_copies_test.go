package model

import (
	"bytes"
	"math"
	"runtime"
	"testing"
	"unsafe"
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

// TestFloat32View: an aligned little-endian buffer is read in place, any other is copied, and both
// read the same values.
func TestFloat32View(t *testing.T) {
	words := make([]uint32, 6) // a byte slice's own alignment is 1: this one starts on a word
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 4*len(words))
	for i := range raw {
		raw[i] = byte(i * 37)
	}
	aligned, shifted := raw[:20], raw[1:21]
	want, wantShifted := float32Copy(aligned), float32Copy(shifted)
	view, copied := float32View(aligned), float32View(shifted)
	if littleEndian && unsafe.Pointer(&view[0]) != unsafe.Pointer(&aligned[0]) {
		t.Error("an aligned buffer was copied")
	}
	if unsafe.Pointer(&copied[0]) == unsafe.Pointer(&shifted[0]) {
		t.Error("a buffer off a 4-byte boundary was viewed in place")
	}
	for i := range want { // compared as bits: some of these bytes make NaNs
		if math.Float32bits(view[i]) != math.Float32bits(want[i]) || math.Float32bits(copied[i]) != math.Float32bits(wantShifted[i]) {
			t.Fatalf("value %d: view %v, copy %v; want %v and %v", i, view[i], copied[i], want[i], wantShifted[i])
		}
	}
	if got := float32View(nil); got == nil || len(got) != 0 {
		t.Errorf("float32View(nil) = %#v, want an empty slice", got)
	}
}
