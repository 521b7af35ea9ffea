package safetensors

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// littleEndian reports whether this machine stores float32 as safetensors files do. WebAssembly,
// amd64 and arm64 all do.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// float32View returns the little-endian float32 values in raw as a slice that shares raw's memory,
// with no copy, where the machine is little-endian and raw starts on a 4-byte boundary (in this
// trainer's files it does: the header is padded to 8 bytes, and Go allocates large buffers
// aligned); otherwise it copies them. DecodeInPlace reads tensors through it: an import in the
// browser holds the file once, not once more as float32s, in a heap that never shrinks.
func float32View(raw []byte) []float32 {
	if len(raw) == 0 || !littleEndian || uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%4 != 0 {
		return float32Copy(raw)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/4)
}

// float32Copy decodes the little-endian float32 values in raw into a slice of their own.
func float32Copy(raw []byte) []float32 {
	values := make([]float32, len(raw)/4)
	for j := range values {
		values[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	return values
}
