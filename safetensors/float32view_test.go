package safetensors

import (
	"math"
	"testing"
	"unsafe"
)

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
