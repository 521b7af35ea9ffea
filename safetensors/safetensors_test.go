package safetensors_test

// Tests for the safetensors reader and writer. They live in the external
// test package so they exercise only the exported API.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/safetensors"
)

// testFile assembles a safetensors file by hand from a literal header and
// data buffer, so hostile cases can say exactly which bytes they contain.
func testFile(header string, buffer []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, buffer...)
}

// float32Bytes encodes values as little-endian float32 bytes.
func float32Bytes(values ...float32) []byte {
	var out []byte
	for _, v := range values {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// sameTensors reports whether two tensor lists are identical, comparing
// floats bit for bit (so NaN payloads and -0 count) and treating nil and
// empty slices alike, since both mean "no values" / "scalar".
func sameTensors(a, b []safetensors.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return false
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return false
			}
		}
	}
	return true
}

// sameMetadata compares metadata maps, treating nil and empty alike
// because an empty map is not written to the file.
func sameMetadata(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// roundTrip encodes md and tensors and decodes the file, failing tb if either step fails. It
// returns the file, and what Decode made of it.
func roundTrip(tb testing.TB, md map[string]string, tensors []safetensors.Tensor) ([]byte, map[string]string, []safetensors.Tensor) {
	tb.Helper()
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, md, tensors); err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	gotMeta, got, err := safetensors.Decode(buf.Bytes())
	if err != nil {
		tb.Fatalf("decoding what Encode wrote: %v", err)
	}
	return buf.Bytes(), gotMeta, got
}

func TestSafetensorsRoundTrip(t *testing.T) {
	metadata := map[string]string{
		"format":  "mnist-trainer",
		"epoch":   "3",
		"unicode": "größe → 重み <&>",
		"":        "empty key is legal",
	}
	nan := math.Float32frombits(0x7fc00123) // A NaN with a payload, to check bits survive.
	tensors := []safetensors.Tensor{
		{Name: "layer2/weights", Shape: []int{3, 2}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), nan}},
		{Name: "bias", Shape: []int{}, Data: []float32{0.25}},                                  // Scalar, empty shape.
		{Name: "nil_shape_scalar", Shape: nil, Data: []float32{float32(math.Copysign(0, -1))}}, // Scalar, nil shape.
		{Name: "empty", Shape: []int{0, 3}, Data: nil},                                         // No values.
		{Name: "layer1/weights", Shape: []int{2, 2, 1}, Data: []float32{1e-30, -1e30, 7, 8}},
	}
	raw, gotMeta, got := roundTrip(t, metadata, tensors)
	if !sameMetadata(gotMeta, metadata) {
		t.Errorf("metadata = %v, want %v", gotMeta, metadata)
	}
	want := slices.Clone(tensors)
	slices.SortFunc(want, func(a, b safetensors.Tensor) int { return strings.Compare(a.Name, b.Name) })
	if !sameTensors(got, want) {
		t.Errorf("tensors = %+v,\nwant %+v", got, want)
	}
	for _, tt := range got {
		if tt.Shape == nil {
			t.Errorf("tensor %q: decoded Shape is nil, want an empty slice for a scalar", tt.Name)
		}
	}

	// The decoded tensors must own their memory: overwriting the file must
	// not change them.
	for i := range raw {
		raw[i] = 0xff
	}
	if !sameTensors(got, want) {
		t.Errorf("decoded tensors alias the input buffer")
	}
}

func TestSafetensorsNoTensors(t *testing.T) {
	for _, md := range []map[string]string{nil, {}, {"k": "v"}} {
		_, gotMeta, got := roundTrip(t, md, nil)
		if len(got) != 0 || !sameMetadata(gotMeta, md) {
			t.Errorf("got %v, %v; want no tensors and %v", gotMeta, got, md)
		}
	}
}

func TestSafetensorsDeterministic(t *testing.T) {
	metadata := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "Z", "__x"} {
		metadata[k] = "value of " + k
	}
	tensors := []safetensors.Tensor{
		{Name: "w", Shape: []int{2}, Data: []float32{1, 2}},
		{Name: "B", Shape: []int{1}, Data: []float32{3}},
		{Name: "a", Shape: []int{3}, Data: []float32{4, 5, 6}},
		{Name: "__z", Shape: nil, Data: []float32{7}},
	}
	var first []byte
	for i := range 20 {
		// Rotate the input order: the output must not depend on it, nor on
		// map iteration order.
		in := append(slices.Clone(tensors[i%len(tensors):]), tensors[:i%len(tensors)]...)
		var buf bytes.Buffer
		if err := safetensors.Encode(&buf, metadata, in); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if first == nil {
			first = buf.Bytes()
			continue
		}
		if !bytes.Equal(first, buf.Bytes()) {
			t.Fatalf("run %d differs:\n%q\n%q", i, first, buf.Bytes())
		}
	}

	// Header alignment: the reference pads the JSON with spaces so the data
	// buffer starts at a multiple of 8.
	n := binary.LittleEndian.Uint64(first)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	header := string(first[8 : 8+n])
	if trimmed := strings.TrimRight(header, " "); !strings.HasSuffix(trimmed, "}") || len(header)-len(trimmed) >= 8 {
		t.Errorf("header %q is not a JSON object padded with fewer than 8 spaces", header)
	}
	// Data buffer in name order: "B" < "__z" < "a" < "w" in byte order.
	wantData := float32Bytes(3, 7, 4, 5, 6, 1, 2)
	if got := first[8+n:]; !bytes.Equal(got, wantData) {
		t.Errorf("data buffer = % x, want % x", got, wantData)
	}
}

// TestSafetensorsGoldenEncode pins the exact bytes of a small file, so a
// change in the output format is noticed. The header is what the reference
// implementation writes for the same tensor.
func TestSafetensorsGoldenEncode(t *testing.T) {
	want := []byte{0x38, 0, 0, 0, 0, 0, 0, 0} // 56 = 54 bytes of JSON + 2 spaces.
	want = append(want, `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  `...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0) // 1.0, -2.0
	var buf bytes.Buffer
	err := safetensors.Encode(&buf, nil, []safetensors.Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, -2}}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got  %q\nwant %q", buf.Bytes(), want)
	}
}

// TestSafetensorsGoldenDecode decodes a file written out byte by byte the way
// the Python safetensors library lays it out ("__metadata__" first, tensors
// in the data buffer in name order, header padded to 8 bytes), to check we
// read files we did not write ourselves.
func TestSafetensorsGoldenDecode(t *testing.T) {
	file := []byte{0x98, 0, 0, 0, 0, 0, 0, 0} // 152 = 148 bytes of JSON + 4 spaces.
	file = append(file, `{"__metadata__":{"format":"pt"},`+
		`"bias":{"dtype":"F32","shape":[],"data_offsets":[0,4]},`+
		`"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[4,20]}}    `...)
	file = append(file,
		0x00, 0x00, 0x00, 0x3f, // 0.5
		0x00, 0x00, 0x80, 0x3f, // 1.0
		0x00, 0x00, 0x00, 0x40, // 2.0
		0x00, 0x00, 0x40, 0x40, // 3.0
		0x00, 0x00, 0x80, 0x40, // 4.0
	)
	md, tensors, err := safetensors.Decode(file)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !sameMetadata(md, map[string]string{"format": "pt"}) {
		t.Errorf("metadata = %v", md)
	}
	want := []safetensors.Tensor{
		{Name: "bias", Shape: []int{}, Data: []float32{0.5}},
		{Name: "weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
	}
	if !sameTensors(tensors, want) {
		t.Errorf("tensors = %+v, want %+v", tensors, want)
	}
}

func TestSafetensorsDecodeErrors(t *testing.T) {
	// f32 builds a well-formed tensor entry, so each case changes one thing.
	f32 := func(shape string, begin, end int) string {
		return `{"dtype":"F32","shape":` + shape + `,"data_offsets":[` + strconv.Itoa(begin) + `,` + strconv.Itoa(end) + `]}`
	}
	ok := f32("[1]", 0, 4)
	four := float32Bytes(1)
	hugeLen := binary.LittleEndian.AppendUint64(nil, 7234508123)
	hugeLen = append(hugeLen, "{}"...)
	maxLen := binary.LittleEndian.AppendUint64(nil, math.MaxUint64)
	overCap := make([]byte, 8+(1<<20)+16)
	binary.LittleEndian.PutUint64(overCap, 1<<20+8)
	overCap[8] = '{'

	cases := []struct {
		name string
		file []byte
		want string // Substring of the error.
	}{
		{"empty file", nil, "weights file: not a safetensors file (only 0 bytes"},
		{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "not a safetensors file (only 7 bytes"},
		{"header length beyond file", hugeLen, "weights file: not a safetensors file (header length 7234508123 is larger than the file)"},
		{"header length max uint64", maxLen, "header length 18446744073709551615 is larger than the file"},
		{"header length over cap", overCap, "header length 1048584 is larger than the 1048576-byte limit"},
		{"empty header", testFile("", nil), "header does not start with '{'"},
		{"header not an object", testFile("[]", nil), "header does not start with '{'"},
		{"leading space", testFile(" {}", nil), "header does not start with '{'"},
		{"invalid utf-8", testFile("{\"\xff\":1}", nil), "header is not valid UTF-8"},
		{"truncated JSON", testFile(`{"a":`, nil), "header is not valid JSON"},
		{"trailing garbage", testFile(`{}  x`, nil), "header is not valid JSON"},
		{"two objects", testFile(`{}{}`, nil), "header is not valid JSON"},
		{"tensor not an object", testFile(`{"a":[1]}`, nil), `tensor "a": expected a JSON object, found a list`},
		{"tensor null", testFile(`{"a":null}`, nil), `tensor "a": expected a JSON object, found null`},
		{"empty name", testFile(`{"":`+ok+`}`, four), "a tensor has an empty name"},
		{"missing dtype", testFile(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a": missing field "dtype"`},
		{"missing shape", testFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, four), `missing field "shape"`},
		{"missing offsets", testFile(`{"a":{"dtype":"F32","shape":[1]}}`, four), `missing field "data_offsets"`},
		{"unknown field", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}`, four), `unknown field "offsets"`},
		{"dtype F16", testFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, four), `tensor "a": dtype "F16" is not supported (only F32 is)`},
		{"dtype lowercase", testFile(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, four), `dtype "f32" is not supported`},
		{"dtype number", testFile(`{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, four), "dtype: expected a string, found the number 32"},
		{"dtype null", testFile(`{"a":{"dtype":null,"shape":[1],"data_offsets":[0,4]}}`, four), "dtype: expected a string, found null"},
		{"shape null", testFile(`{"a":`+f32("null", 0, 4)+`}`, four), "shape must be a list of non-negative integers, found null"},
		{"shape number", testFile(`{"a":`+f32("1", 0, 4)+`}`, four), "shape must be a list of non-negative integers, found the number 1"},
		{"shape negative", testFile(`{"a":`+f32("[-1]", 0, 4)+`}`, four), "shape[0] is -1; it must be a non-negative integer"},
		{"shape negative product positive", testFile(`{"a":`+f32("[-1,-4]", 0, 16)+`}`, float32Bytes(1, 2, 3, 4)), "shape[0] is -1"},
		{"shape fraction", testFile(`{"a":`+f32("[1.5]", 0, 4)+`}`, four), "shape[0] is 1.5; it must be a non-negative integer"},
		{"shape exponent", testFile(`{"a":`+f32("[1e0]", 0, 4)+`}`, four), "shape[0] is 1e0"},
		{"shape string", testFile(`{"a":`+f32(`["1"]`, 0, 4)+`}`, four), `shape[0] must be a non-negative integer, found the string "1"`},
		{"shape too large", testFile(`{"a":`+f32("[99999999999999999999]", 0, 4)+`}`, four), "shape[0] is 99999999999999999999, which is too large"},
		{"shape beyond int", testFile(`{"a":`+f32("[9223372036854775808]", 0, 4)+`}`, four), "shape[0] is 9223372036854775808, which is too large"},
		{"shape product overflow", testFile(`{"a":`+f32("[4294967296,4294967296,16]", 0, 4)+`}`, four), "shape [4294967296 4294967296 16] needs more than 2^64 bytes but data_offsets [0, 4] span 4 bytes"},
		{"shape bytes overflow", testFile(`{"a":`+f32("[2147483648,2147483648]", 0, 4)+`}`, four), "needs more than 2^64 bytes"},
		{"shape wrapping to span", testFile(`{"a":`+f32("[4611686018427387905]", 0, 4)+`}`, four), "needs more than 2^64 bytes"},
		{"shape mismatch", testFile(`{"a":`+f32("[2]", 0, 4)+`}`, four), `tensor "a": shape [2] needs 8 bytes but data_offsets [0, 4] span 4 bytes`},
		{"offsets one number", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, four), "data_offsets must be [begin, end], found 1 numbers"},
		{"offsets three numbers", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, four), "found 3 numbers"},
		{"offsets reversed", testFile(`{"a":`+f32("[1]", 4, 0)+`}`, four), "data_offsets [4, 0] end before they begin"},
		{"offsets negative", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, four), "data_offsets[0] is -4"},
		{"offsets huge", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}`, four), "data_offsets[1] is 18446744073709551616, which is too large"},
		{"offsets null", testFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":null}}`, four), "data_offsets must be a list"},
		// A huge tensor whose shape and offsets agree: only the file size
		// check stops it, and it must do so before allocating 1 TiB.
		{"huge tensor beyond file", testFile(`{"a":`+f32("[274877906944]", 0, 1<<40)+`}`, four), "truncated: header says 1099511627776 bytes of tensor data, file has 4"},
		{"truncated", testFile(`{"a":`+f32("[300]", 0, 1200)+`}`, make([]byte, 800)), "weights file: truncated: header says 1200 bytes of tensor data, file has 800"},
		{"trailing bytes", testFile(`{"a":`+ok+`}`, make([]byte, 8)), "4 unexpected bytes after the tensor data (header says 4 bytes of tensor data, file has 8)"},
		{"no tensors but data", testFile(`{}`, four), "4 unexpected bytes after the tensor data"},
		{"overlap", testFile(`{"a":`+f32("[2]", 0, 8)+`,"b":`+f32("[2]", 4, 12)+`}`, make([]byte, 12)), `tensors "a" (bytes 0-8) and "b" (bytes 4-12) overlap`},
		{"same span twice", testFile(`{"a":`+ok+`,"b":`+ok+`}`, four), `tensors "a" (bytes 0-4) and "b" (bytes 0-4) overlap`},
		{"hole between", testFile(`{"a":`+f32("[1]", 0, 4)+`,"b":`+f32("[1]", 8, 12)+`}`, make([]byte, 12)), `bytes 4-8 of the data buffer belong to no tensor (between tensors "a" and "b")`},
		{"hole at start", testFile(`{"a":`+f32("[1]", 4, 8)+`}`, make([]byte, 8)), "bytes 0-4 of the data buffer belong to no tensor (before the first tensor)"},
		{"duplicate name", testFile(`{"a":`+ok+`,"a":`+ok+`}`, four), `header: key "a" appears more than once`},
		{"duplicate name escaped", testFile(`{"a":`+ok+`,"\u0061":`+ok+`}`, four), `key "a" appears more than once`},
		{"duplicate field", testFile(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a": key "dtype" appears more than once`},
		{"duplicate metadata", testFile(`{"__metadata__":{},"__metadata__":{}}`, nil), `key "__metadata__" appears more than once`},
		{"metadata not object", testFile(`{"__metadata__":"x"}`, nil), `__metadata__: expected a JSON object, found the string "x"`},
		{"metadata number value", testFile(`{"__metadata__":{"epoch":3}}`, nil), `__metadata__: entry "epoch": expected a string, found the number 3`},
		{"metadata duplicate key", testFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `key "k" appears more than once`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md, tensors, err := safetensors.Decode(tc.file)
			if err == nil {
				t.Fatalf("no error; got %v, %v", md, tensors)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "weights file: ") {
				t.Errorf("error %q does not start with \"weights file: \"", err)
			}
			if md != nil || tensors != nil {
				t.Errorf("results not nil on error: %v, %v", md, tensors)
			}
		})
	}
}

// TestSafetensorsDecodeAccepts covers unusual but valid inputs.
func TestSafetensorsDecodeAccepts(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want []safetensors.Tensor
	}{
		{"null metadata", testFile(`{"__metadata__":null}`, nil), nil},
		{"padding with newline and tabs", testFile("{}\n\t ", nil), nil},
		{"zero-size tensors share an offset", testFile(
			`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},`+
				`"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
				`"c":{"dtype":"F32","shape":[2,0],"data_offsets":[4,4]}}`, float32Bytes(9)),
			[]safetensors.Tensor{{Name: "a", Shape: []int{0}}, {Name: "b", Shape: []int{1}, Data: []float32{9}}, {Name: "c", Shape: []int{2, 0}}}},
		// A zero-size dimension makes the tensor empty however large the
		// others are; the product must not be reported as an overflow.
		{"zero dimension with huge others", testFile(
			`{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, nil),
			[]safetensors.Tensor{{Name: "a", Shape: []int{4294967296, 4294967296, 0}}}},
		{"minus zero", testFile(`{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}`, nil),
			[]safetensors.Tensor{{Name: "a", Shape: []int{0}}}},
		{"sorted by name", testFile(
			`{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"m":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, float32Bytes(1, 2)),
			[]safetensors.Tensor{{Name: "m", Shape: []int{1}, Data: []float32{2}}, {Name: "z", Shape: []int{1}, Data: []float32{1}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := safetensors.Decode(tc.file)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !sameTensors(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSafetensorsEncodeErrors(t *testing.T) {
	cases := []struct {
		name    string
		md      map[string]string
		tensors []safetensors.Tensor
		want    string
	}{
		{"too few values", nil, []safetensors.Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, `tensor "w": shape [2 3] holds 6 values but Data has 5`},
		{"scalar without value", nil, []safetensors.Tensor{{Name: "s"}}, `tensor "s": shape [] holds 1 values but Data has 0`},
		{"negative size", nil, []safetensors.Tensor{{Name: "w", Shape: []int{-2, -3}, Data: make([]float32, 6)}}, "negative size -2 in dimension 0"},
		{"overflowing shape", nil, []safetensors.Tensor{{Name: "w", Shape: []int{1 << 40, 1 << 40}}}, "has too many elements"},
		{"duplicate name", nil, []safetensors.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}, {Name: "w", Shape: []int{1}, Data: []float32{2}}}, `two tensors are named "w"`},
		{"empty name", nil, []safetensors.Tensor{{Name: "", Shape: []int{1}, Data: []float32{1}}}, "empty name"},
		{"reserved name", nil, []safetensors.Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, "reserved"},
		{"invalid utf-8 name", nil, []safetensors.Tensor{{Name: "w\xff", Shape: []int{1}, Data: []float32{1}}}, "not valid UTF-8"},
		{"invalid utf-8 metadata", map[string]string{"k": "\xfe"}, nil, "not valid UTF-8"},
		{"header too large", map[string]string{"k": strings.Repeat("x", 1<<20)}, nil, "more than the 1048576-byte limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := safetensors.Encode(&buf, tc.md, tc.tensors)
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing validation", buf.Len())
			}
		})
	}
}

// failingWriter accepts limit bytes, then fails, to check that write
// errors reach the caller.
type failingWriter struct{ limit int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		return 0, errDiskFull
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestSafetensorsEncodeWriteError(t *testing.T) {
	tensors := []safetensors.Tensor{{Name: "w", Shape: []int{100000}, Data: make([]float32, 100000)}}
	for _, limit := range []int{0, 8, 100, 200000} {
		err := safetensors.Encode(&failingWriter{limit: limit}, nil, tensors)
		if !errors.Is(err, errDiskFull) {
			t.Errorf("limit %d: error %v, want %v", limit, err, errDiskFull)
		}
	}
}

// TestSafetensorsLarge checks a tensor bigger than the encoder's internal
// write chunk survives intact.
func TestSafetensorsLarge(t *testing.T) {
	data := make([]float32, 100003)
	for i := range data {
		data[i] = float32(i) * 0.5
	}
	var buf bytes.Buffer
	in := []safetensors.Tensor{{Name: "big", Shape: []int{100003}, Data: data}, {Name: "small", Shape: []int{1}, Data: []float32{-1}}}
	if err := safetensors.Encode(&buf, nil, in); err != nil {
		t.Fatal(err)
	}
	_, got, err := safetensors.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !sameTensors(got, in) {
		t.Errorf("large tensor did not round-trip")
	}
}
