package safetensors_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/safetensors"
)

// FuzzDecodeSafetensors feeds arbitrary bytes to Decode, because
// weights files come from downloads and uploads we do not control. Decoding
// must never panic and must fail with a "weights file:" message; whatever it
// accepts must survive an encode/decode round trip unchanged, and encoding
// that result again must give the same bytes (the writer is deterministic).
func FuzzDecodeSafetensors(f *testing.F) {
	// A valid file with metadata, a scalar, an empty tensor and a matrix.
	var valid bytes.Buffer
	err := safetensors.Encode(&valid, map[string]string{"format": "mnist"}, []safetensors.Tensor{
		{Name: "bias", Shape: []int{}, Data: []float32{0.5}},
		{Name: "empty", Shape: []int{0, 4}},
		{Name: "weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, float32(math.NaN())}},
	})
	if err != nil {
		f.Fatal(err)
	}
	good := valid.Bytes()
	f.Add(good)
	f.Add(testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, float32Bytes(1)))
	f.Add(testFile(`{}`, nil))

	// Broken seeds, one per family of checks, so the fuzzer starts close to
	// each error path.
	f.Add([]byte{})
	f.Add(good[:7])                                                                    // Too short for the length field.
	f.Add(good[:len(good)-4])                                                          // Truncated data.
	f.Add(append(slices.Clone(good), 0, 0, 0, 0))                                      // Trailing bytes.
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, good[8:]...)) // Absurd header length.
	f.Add(testFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, float32Bytes(1)))
	f.Add(testFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, float32Bytes(1)))
	f.Add(testFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, float32Bytes(1)))
	f.Add(testFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, float32Bytes(1, 2)))
	f.Add(testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, float32Bytes(1)))
	f.Add(testFile(`{"__metadata__":{"k":1}}`, nil))

	f.Fuzz(func(t *testing.T, data []byte) {
		md, tensors, err := safetensors.Decode(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "weights file: ") {
				t.Fatalf("error without the weights file prefix: %v", err)
			}
			if md != nil || tensors != nil {
				t.Fatalf("results not nil on error %v", err)
			}
			return
		}
		for i := 1; i < len(tensors); i++ {
			if tensors[i-1].Name >= tensors[i].Name {
				t.Fatalf("tensors not sorted by name: %q before %q", tensors[i-1].Name, tensors[i].Name)
			}
		}

		first, md2, tensors2 := roundTrip(t, md, tensors) // re-encoding a file that decoded
		if !sameMetadata(md, md2) {
			t.Fatalf("metadata changed in round trip: %v became %v", md, md2)
		}
		if !sameTensors(tensors, tensors2) {
			t.Fatalf("tensors changed in round trip: %+v became %+v", tensors, tensors2)
		}
		var second bytes.Buffer
		if err := safetensors.Encode(&second, md2, tensors2); err != nil {
			t.Fatalf("encoding twice: %v", err)
		}
		if !bytes.Equal(first, second.Bytes()) {
			t.Fatalf("encoding is not stable:\n%q\n%q", first, second.Bytes())
		}
	})
}
