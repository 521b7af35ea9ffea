package mnist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"

	. "github.com/mnist-trainer/mnist/mnist"
)

// fuzzSeeds returns small IDX files of the given magic: valid ones, gzipped
// ones, and near misses, so the fuzzer starts next to the interesting
// branches. Built in code rather than in testdata/fuzz so they follow any
// change to the format checks.
func fuzzSeeds(magic uint32, dims []uint32, payload []byte) [][]byte {
	hdr := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, d)
	}
	valid := append(hdr, payload...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(valid)
	zw.Close()
	return [][]byte{
		valid,
		gz.Bytes(),
		valid[:len(hdr)-1],                       // cut in header
		valid[:len(valid)-1],                     // cut in payload
		append(valid[:len(valid):len(valid)], 7), // trailing byte
		gz.Bytes()[:gz.Len()/2],                  // cut gzip stream
		{0x1f, 0x8b},                             // gzip magic only
		nil,
	}
}

func FuzzParseImages(f *testing.F) {
	for _, s := range fuzzSeeds(ImagesMagic, []uint32{1, 28, 28}, bytes.Repeat([]byte{128}, 784)) {
		f.Add(s)
	}
	f.Add(binary.BigEndian.AppendUint32([]byte{0, 0, 8, 3, 0x3b, 0x9a, 0xca, 0}, 28)) // 10^9 images, no cols
	f.Fuzz(func(t *testing.T, data []byte) {
		images, n, rows, cols, err := ParseImages(bytes.NewReader(data))
		// ParseImageRuns makes the same checks, and gives the same pixels as runs.
		runs, rn, rerr := ParseImageRuns(bytes.NewReader(data))
		if (rerr == nil) != (err == nil) || err == nil && (rn != n || !bytes.Equal(decodeRuns(t, runs), images)) {
			t.Fatalf("ParseImages: n=%d, %v; ParseImageRuns: n=%d, %v, or other pixels", n, err, rn, rerr)
		}
		if err != nil {
			return
		}
		if rows != ImageSize || cols != ImageSize || n < 1 || n > MaxImages || len(images) != n*rows*cols {
			t.Fatalf("accepted n=%d %dx%d with %d bytes", n, rows, cols, len(images))
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range fuzzSeeds(LabelsMagic, []uint32{3}, []byte{0, 5, 9}) {
		f.Add(s)
	}
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 1, 10}) // label 10
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ParseLabels(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(labels) < 1 || len(labels) > MaxImages {
			t.Fatalf("accepted %d labels", len(labels))
		}
		for i, l := range labels {
			if l >= NumClasses {
				t.Fatalf("accepted label %d at index %d", l, i)
			}
		}
	})
}
