// Package safetensors reads and writes the safetensors format
// (https://huggingface.co/docs/safetensors), so weights trained in the browser
// can be saved, reloaded, and exchanged with the Python ecosystem.
//
// Layout of a file:
//
//	8 bytes   N, little-endian uint64: length of the JSON header
//	N bytes   UTF-8 JSON header, optionally padded with trailing spaces
//	rest      data buffer: the raw little-endian, row-major tensor bytes
//
// The header maps each tensor name to
// {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}, with offsets
// relative to the start of the data buffer, plus an optional "__metadata__"
// object of string to string.
//
// Weights files come from downloads and user uploads, so the decoder treats
// its input as hostile: every length is checked against the bytes actually
// present before anything is allocated, and every malformed input becomes an
// error a person can act on, never a panic.
//
// Only the standard library is used, and only bytes are handled (no file
// access), so the code builds for GOOS=js GOARCH=wasm as well as natively.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tensor is one float32 tensor of a safetensors file.
//
// Data holds the values in row-major order, so len(Data) must equal the
// product of Shape. An empty (or nil) Shape is a scalar holding one value;
// a Shape containing 0 holds no values.
type Tensor struct {
	// Name is the tensor's key in the file header; it must be non-empty and
	// must not be "__metadata__", which the format reserves.
	Name string
	// Shape lists the size of each dimension, outermost first.
	Shape []int
	// Data holds the values in row-major order.
	Data []float32
}

const (
	// MaxHeaderLen caps the JSON header. Our headers are a few KB; the cap
	// keeps a hostile length field from making us parse (or a careless
	// caller from writing) a header of absurd size. The reference
	// implementation uses 100 MB, which is far beyond anything we produce.
	MaxHeaderLen = 1 << 20

	// metadataKey is the reserved header key holding the free-form
	// string-to-string metadata.
	metadataKey = "__metadata__"

	// dtypeF32 is the only dtype this package reads or writes: the models
	// trained here are all float32.
	dtypeF32 = "F32"

	// writeChunk is the size of the scratch buffer used to stream tensor
	// bytes to the writer, so encoding never doubles the model's memory.
	writeChunk = 64 << 10

	// decodePrefix starts every decode error, so that a message shown to a
	// user says which file was wrong without further wrapping.
	decodePrefix = "weights file: "

	// encodePrefix starts every encode error.
	encodePrefix = "writing weights file: "
)

// tensorHeader is one tensor's entry in the JSON header. Field order
// matches the reference implementation's output.
type tensorHeader struct {
	Dtype       string    `json:"dtype"`
	Shape       []int     `json:"shape"`
	DataOffsets [2]uint64 `json:"data_offsets"`
}

// Encode writes tensors and metadata to w in the safetensors
// format.
//
// The output is deterministic, so that saving the same weights twice gives
// byte-identical files (useful for caching and for tests): tensors are laid
// out in the data buffer sorted by name, header keys are sorted, and the
// header is padded with spaces to a multiple of 8 bytes as the reference
// implementation does, which keeps the data buffer 8-byte aligned.
//
// It returns an error, before writing anything, if a tensor's len(Data) does
// not match its Shape, a shape has a negative size, a name is empty, reserved
// or duplicated, a string is not valid UTF-8 (JSON could not carry it
// faithfully), or the header would exceed the size Decode accepts.
// Metadata may be nil; an empty metadata map is omitted from the header.
func Encode(w io.Writer, metadata map[string]string, tensors []Tensor) error {
	// Sort a copy of the slice headers: the caller's slice order is theirs.
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })

	header := make(map[string]any, len(sorted)+1)
	var offset uint64
	for i, t := range sorted {
		if t.Name == "" {
			return errors.New(encodePrefix + "a tensor has an empty name")
		}
		if t.Name == metadataKey {
			return fmt.Errorf("%stensor name %q is reserved for metadata", encodePrefix, t.Name)
		}
		if !utf8.ValidString(t.Name) {
			return fmt.Errorf("%stensor name %q is not valid UTF-8", encodePrefix, t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return fmt.Errorf("%stwo tensors are named %q", encodePrefix, t.Name)
		}
		for d, size := range t.Shape {
			if size < 0 {
				return fmt.Errorf("%stensor %q: shape %v has negative size %d in dimension %d",
					encodePrefix, t.Name, t.Shape, size, d)
			}
		}
		n, ok := numElements(t.Shape)
		if !ok {
			return fmt.Errorf("%stensor %q: shape %v has too many elements", encodePrefix, t.Name, t.Shape)
		}
		if n != uint64(len(t.Data)) {
			return fmt.Errorf("%stensor %q: shape %v holds %d values but Data has %d",
				encodePrefix, t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			// A nil shape is a scalar; JSON needs [] rather than null.
			shape = []int{}
		}
		size := n * 4 // Cannot overflow: n is a slice length.
		if offset+size < offset {
			return fmt.Errorf("%stensors are too large to store", encodePrefix)
		}
		header[t.Name] = tensorHeader{Dtype: dtypeF32, Shape: shape, DataOffsets: [2]uint64{offset, offset + size}}
		offset += size
	}
	if len(metadata) > 0 {
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return fmt.Errorf("%smetadata entry %q: %q is not valid UTF-8", encodePrefix, k, v)
			}
		}
		header[metadataKey] = metadata
	}

	// encoding/json sorts map keys, which gives the deterministic header.
	// HTML escaping is turned off because it is meant for embedding JSON in
	// web pages and would only make the header differ from the reference's.
	var hdr bytes.Buffer
	enc := json.NewEncoder(&hdr)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header); err != nil {
		return fmt.Errorf("%sencoding header: %w", encodePrefix, err)
	}
	hdr.Truncate(hdr.Len() - 1) // Encode appends a newline; drop it.
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > MaxHeaderLen {
		return fmt.Errorf("%sheader is %d bytes, more than the %d-byte limit of the reader",
			encodePrefix, hdr.Len(), MaxHeaderLen)
	}

	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("%s%w", encodePrefix, err)
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return fmt.Errorf("%s%w", encodePrefix, err)
	}

	// Stream the data through a bounded scratch buffer rather than building
	// the whole file in memory.
	chunk := make([]byte, 0, min(writeChunk, max(offset, 4)))
	for _, t := range sorted {
		for _, v := range t.Data {
			chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
			if len(chunk)+4 > cap(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return fmt.Errorf("%s%w", encodePrefix, err)
				}
				chunk = chunk[:0]
			}
		}
	}
	if len(chunk) > 0 {
		if _, err := w.Write(chunk); err != nil {
			return fmt.Errorf("%s%w", encodePrefix, err)
		}
	}
	return nil
}

// Decode parses a safetensors file held in data.
//
// It returns the metadata (nil when the file has none) and the tensors sorted
// by name. The returned tensors own their memory; data may be reused after
// the call.
//
// The decoder is strict, because a file that is subtly wrong would otherwise
// load as garbage weights: it rejects a header length beyond the file or
// beyond 1 MiB, a header that is not a JSON object in valid UTF-8, unknown,
// missing, duplicated or mistyped fields, duplicate tensor names, any dtype
// other than F32 (naming the dtype), negative or overflowing shapes, and
// data_offsets that are out of range, do not match the shape, overlap, or
// leave bytes of the data buffer unused. Errors start with "weights file:"
// and are meant to be shown to a person. It never panics.
func Decode(data []byte) (metadata map[string]string, tensors []Tensor, err error) {
	return decode(data, false)
}

// DecodeInPlace is Decode, except that the tensors' Data are views of data's bytes where the
// machine and the bytes' alignment allow (see float32View), not copies: data must then not
// change while the tensors are in use. A weights import in the browser holds the file once that
// way, not once more as float32s.
func DecodeInPlace(data []byte) (metadata map[string]string, tensors []Tensor, err error) {
	return decode(data, true)
}

// decode is Decode, or with inPlace DecodeInPlace.
func decode(data []byte, inPlace bool) (metadata map[string]string, tensors []Tensor, err error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%snot a safetensors file (only %d bytes, shorter than the 8-byte header length)",
			decodePrefix, len(data))
	}
	// Compare as uint64 before converting: the length field is untrusted and
	// may not fit in an int.
	headerLen := binary.LittleEndian.Uint64(data[:8])
	if headerLen > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("%snot a safetensors file (header length %d is larger than the file)",
			decodePrefix, headerLen)
	}
	if headerLen > MaxHeaderLen {
		return nil, nil, fmt.Errorf("%sheader length %d is larger than the %d-byte limit",
			decodePrefix, headerLen, MaxHeaderLen)
	}
	header := data[8 : 8+int(headerLen)]
	buffer := data[8+int(headerLen):]

	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("%snot a safetensors file (header does not start with '{')", decodePrefix)
	}
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("%sheader is not valid UTF-8", decodePrefix)
	}
	// A full syntax check first gives a positioned message for broken JSON
	// and rejects anything after the object other than whitespace (the
	// alignment padding), so the walks below only see well-formed JSON.
	var whole json.RawMessage
	if err := json.Unmarshal(header, &whole); err != nil {
		return nil, nil, fmt.Errorf("%sheader is not valid JSON: %v", decodePrefix, err)
	}

	fields, err := objectFields(whole)
	if err != nil {
		return nil, nil, fmt.Errorf("%sheader: %v", decodePrefix, err)
	}

	// Spans of the data buffer, for the coverage check after all tensors.
	type span struct {
		name       string
		begin, end uint64
	}
	spans := make([]span, 0, len(fields))
	tensors = make([]Tensor, 0, len(fields))
	for _, f := range fields {
		if f.key == metadataKey {
			metadata, err = decodeMetadata(f.value)
			if err != nil {
				return nil, nil, fmt.Errorf("%s%s: %v", decodePrefix, metadataKey, err)
			}
			continue
		}
		if f.key == "" {
			return nil, nil, fmt.Errorf("%sa tensor has an empty name", decodePrefix)
		}
		shape, begin, end, err := decodeTensorHeader(f.value)
		if err != nil {
			return nil, nil, fmt.Errorf("%stensor %q: %v", decodePrefix, f.key, err)
		}
		// Check sizes against the claimed span before allocating, so that a
		// huge shape cannot make us allocate: the span is itself checked
		// against the real buffer below, before any tensor data is read.
		n, ok := numElements(shape)
		if !ok || n > (end-begin)/4 || n*4 != end-begin {
			return nil, nil, fmt.Errorf("%stensor %q: shape %v needs %s bytes but data_offsets [%d, %d] span %d bytes",
				decodePrefix, f.key, shape, byteCount(n, ok), begin, end, end-begin)
		}
		spans = append(spans, span{f.key, begin, end})
		tensors = append(tensors, Tensor{Name: f.key, Shape: shape})
	}

	// The spec requires the tensors to tile the data buffer exactly: sorted
	// by offset, each must start where the previous one ended, the first at
	// 0 and the last at the end of the file. That rules out overlaps (two
	// tensors aliasing the same bytes) and holes (bytes hiding unvalidated
	// content).
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		if a.end != b.end {
			if a.end < b.end {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var covered uint64
	for i, s := range spans {
		switch {
		case s.begin < covered:
			prev := spans[i-1]
			return nil, nil, fmt.Errorf("%stensors %q (bytes %d-%d) and %q (bytes %d-%d) overlap in the data buffer",
				decodePrefix, prev.name, prev.begin, prev.end, s.name, s.begin, s.end)
		case s.begin > covered:
			where := "before the first tensor"
			if i > 0 {
				where = fmt.Sprintf("between tensors %q and %q", spans[i-1].name, s.name)
			}
			return nil, nil, fmt.Errorf("%sbytes %d-%d of the data buffer belong to no tensor (%s)",
				decodePrefix, covered, s.begin, where)
		}
		covered = s.end
	}
	if covered > uint64(len(buffer)) {
		return nil, nil, fmt.Errorf("%struncated: header says %d bytes of tensor data, file has %d",
			decodePrefix, covered, len(buffer))
	}
	if covered < uint64(len(buffer)) {
		return nil, nil, fmt.Errorf("%s%d unexpected bytes after the tensor data (header says %d bytes of tensor data, file has %d)",
			decodePrefix, uint64(len(buffer))-covered, covered, len(buffer))
	}

	// Every span now lies inside buffer, so the allocations below are
	// bounded by the size of the input.
	byName := make(map[string]span, len(spans))
	for _, s := range spans {
		byName[s.name] = s
	}
	for i := range tensors {
		s := byName[tensors[i].Name]
		raw := buffer[s.begin:s.end]
		if inPlace {
			tensors[i].Data = float32View(raw)
		} else {
			tensors[i].Data = float32Copy(raw)
		}
	}
	slices.SortFunc(tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return metadata, tensors, nil
}

// field is one key/value pair of a JSON object, value left undecoded.
type field struct {
	key   string
	value json.RawMessage
}

// objectFields splits a syntactically valid JSON value into the fields of
// an object, in file order. It exists because encoding/json silently keeps
// the last of duplicated keys, and a duplicated tensor name (or field) is
// exactly the kind of ambiguity a strict reader must refuse.
func objectFields(raw json.RawMessage) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected a JSON object, found %s", describe(raw))
	}
	var fields []field
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok { // Unreachable for valid JSON; kept so a surprise is an error, not a panic.
			return nil, fmt.Errorf("expected an object key, found %v", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q appears more than once", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		fields = append(fields, field{key, value})
	}
	if _, err := dec.Token(); err != nil { // The closing '}'.
		return nil, err
	}
	return fields, nil
}

// decodeMetadata reads the "__metadata__" object, which the format
// defines as string to string only. A null value means no metadata, as in
// the reference implementation.
func decodeMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	fields, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	metadata := make(map[string]string, len(fields))
	for _, f := range fields {
		s, err := decodeString(f.value)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", f.key, err)
		}
		metadata[f.key] = s
	}
	return metadata, nil
}

// decodeTensorHeader reads one tensor entry, requiring exactly the three
// fields the format defines: a field we do not understand might change the
// meaning of the bytes, so it is rejected rather than ignored.
func decodeTensorHeader(raw json.RawMessage) (shape []int, begin, end uint64, err error) {
	fields, err := objectFields(raw)
	if err != nil {
		return nil, 0, 0, err
	}
	var haveDtype, haveShape, haveOffsets bool
	for _, f := range fields {
		switch f.key {
		case "dtype":
			dtype, err := decodeString(f.value)
			if err != nil {
				return nil, 0, 0, fmt.Errorf("dtype: %v", err)
			}
			if dtype != dtypeF32 {
				return nil, 0, 0, fmt.Errorf("dtype %q is not supported (only %s is)", dtype, dtypeF32)
			}
			haveDtype = true
		case "shape":
			dims, err := decodeIntList(f.value, "shape", math.MaxInt)
			if err != nil {
				return nil, 0, 0, err
			}
			shape = make([]int, len(dims))
			for i, d := range dims {
				shape[i] = int(d) // Fits: bounded by math.MaxInt above.
			}
			haveShape = true
		case "data_offsets":
			offs, err := decodeIntList(f.value, "data_offsets", math.MaxUint64)
			if err != nil {
				return nil, 0, 0, err
			}
			if len(offs) != 2 {
				return nil, 0, 0, fmt.Errorf("data_offsets must be [begin, end], found %d numbers", len(offs))
			}
			begin, end = offs[0], offs[1]
			if end < begin {
				return nil, 0, 0, fmt.Errorf("data_offsets [%d, %d] end before they begin", begin, end)
			}
			haveOffsets = true
		default:
			return nil, 0, 0, fmt.Errorf("unknown field %q", f.key)
		}
	}
	switch {
	case !haveDtype:
		return nil, 0, 0, errors.New(`missing field "dtype"`)
	case !haveShape:
		return nil, 0, 0, errors.New(`missing field "shape"`)
	case !haveOffsets:
		return nil, 0, 0, errors.New(`missing field "data_offsets"`)
	}
	return shape, begin, end, nil
}

// decodeString decodes a JSON string, refusing other types: plain
// json.Unmarshal would accept null as "".
func decodeString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", fmt.Errorf("expected a string, found %s", describe(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// decodeIntList decodes a JSON array of non-negative integers no larger
// than limit. It parses each number itself because json.Unmarshal would
// accept null as an empty list and silently pass through values we must
// name in the error (negative sizes, fractions, exponents).
func decodeIntList(raw json.RawMessage, what string, limit uint64) ([]uint64, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("%s must be a list of non-negative integers, found %s", what, describe(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	out := make([]uint64, len(items))
	for i, item := range items {
		s := string(item)
		if len(s) == 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			return nil, fmt.Errorf("%s[%d] must be a non-negative integer, found %s", what, i, describe(item))
		}
		if s[0] == '-' {
			// "-0" is a valid JSON spelling of zero; any other sign is negative.
			if v, err := strconv.ParseUint(s[1:], 10, 64); err != nil || v != 0 {
				return nil, fmt.Errorf("%s[%d] is %s; it must be a non-negative integer", what, i, s)
			}
			continue
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("%s[%d] is %s, which is too large", what, i, s)
			}
			return nil, fmt.Errorf("%s[%d] is %s; it must be a non-negative integer", what, i, s)
		}
		if v > limit {
			return nil, fmt.Errorf("%s[%d] is %s, which is too large", what, i, s)
		}
		out[i] = v
	}
	return out, nil
}

// numElements returns the number of values a shape holds, and false if
// that number does not fit in a uint64 (a hostile header can multiply its
// way past any limit). A zero-size dimension makes the product 0 however
// large the others are. Negative sizes must be rejected by the caller.
func numElements(shape []int) (uint64, bool) {
	if slices.Contains(shape, 0) {
		return 0, true
	}
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// byteCount formats the byte size of a shape for error messages, which
// must also make sense when the size overflows.
func byteCount(n uint64, ok bool) string {
	if !ok {
		return "more than 2^64"
	}
	hi, lo := bits.Mul64(n, 4)
	if hi != 0 {
		return "more than 2^64"
	}
	return strconv.FormatUint(lo, 10)
}

// describe names the JSON type of raw for error messages, quoting short
// values so the user can find them in the file.
func describe(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	kind := ""
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		kind = "the string "
	case 't', 'f':
		kind = "the boolean "
	case 'n':
		return "null"
	default:
		kind = "the number "
	}
	s := string(raw)
	if len(s) > 40 {
		// Cut on a rune boundary so the message stays valid UTF-8.
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return kind + s
}
