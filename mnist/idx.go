package mnist

// This file reads the IDX format MNIST comes in: a big-endian header (a magic number and the
// size of each dimension) followed by the uint8 payload, gzipped or not.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxImages bounds the image or label count a file header may claim.
// MNIST has 60,000 training images; the cap lets the parser refuse a
// corrupted or hostile header before it allocates the payload buffer,
// which matters in a browser tab with a small memory budget.
const MaxImages = 100_000

// IDX magic numbers: two zero bytes, the element type (0x08 = uint8) and the
// number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// ParseImages reads an IDX3 images file (magic 0x00000803), gzipped or raw,
// and returns its pixels, n*rows*cols bytes. It rejects a wrong magic
// number, a size other than ImageSize x ImageSize, a count of 0 or above
// MaxImages (before allocating anything that size), and a payload that is
// short or followed by extra bytes.
func ParseImages(r io.Reader) (images []byte, n, rows, cols int, err error) {
	dims, images, err := readIDX(r, "images", imagesMagic, 3, imagesSize, readPayload)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return images, int(dims[0]), ImageSize, ImageSize, nil
}

// ParseImageRuns is ParseImages, with the same checks, but returns the pixels as runs (see
// appendRuns), encoded image by image as they are read: the whole pixels are never held, which
// keeps the peak of the browser worker that unpacks the training images for the page (47 MB of
// pixels, 12.1 MB of runs), since a worker's memory keeps its peak for good.
func ParseImageRuns(r io.Reader) (runs []byte, n int, err error) {
	dims, runs, err := readIDX(r, "images", imagesMagic, 3, imagesSize, readRuns)
	if err != nil {
		return nil, 0, err
	}
	return runs, int(dims[0]), nil
}

// imagesSize checks an images file's dimensions and returns its payload's size.
func imagesSize(d []uint32) (int, error) {
	if d[1] != ImageSize || d[2] != ImageSize {
		return 0, fmt.Errorf("image size is %dx%d, want %dx%d", d[1], d[2], ImageSize, ImageSize)
	}
	return int(d[0]) * ImageSize * ImageSize, nil
}

// ParseLabels reads an IDX1 labels file (magic 0x00000801), gzipped or raw,
// and returns one byte per label. Besides the checks ParseImages does, it
// rejects any label outside 0..NumClasses-1, since one would later index
// past the model's output.
func ParseLabels(r io.Reader) ([]byte, error) {
	_, labels, err := readIDX(r, "labels", labelsMagic, 1, func(d []uint32) (int, error) {
		return int(d[0]), nil
	}, readPayload)
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l >= NumClasses {
			return nil, fmt.Errorf("mnist labels: label %d at index %d is out of range 0..%d", l, i, NumClasses-1)
		}
	}
	return labels, nil
}

// LoadDataset parses an images file and its labels file (each gzipped or
// raw) and checks that they hold the same number of examples and that every
// label is in 0..NumClasses-1.
func LoadDataset(images, labels io.Reader) (*Dataset, error) {
	pix, n, rows, cols, err := ParseImages(images)
	if err != nil {
		return nil, err
	}
	labs, err := labelsOf(labels, n)
	if err != nil {
		return nil, err
	}
	return &Dataset{Images: pix, Labels: labs, Rows: rows, Cols: cols}, nil
}

// labelsOf parses a labels file that must hold n labels, one per image of its images file.
func labelsOf(labels io.Reader, n int) ([]byte, error) {
	labs, err := ParseLabels(labels)
	if err != nil {
		return nil, err
	}
	if len(labs) != n {
		return nil, fmt.Errorf("mnist: %d images but %d labels: are the two files from the same set (train vs t10k)?", n, len(labs))
	}
	return labs, nil
}

// LoadDatasetRuns is LoadDataset keeping the images as runs (ParseImageRuns), about a quarter of
// their pixels' room: a browser worker's test images, whose room in its heap is room the
// collector does not have (session/memory.go). Gather and Image decode the images they return.
func LoadDatasetRuns(images, labels io.Reader) (*Dataset, error) {
	runs, n, err := ParseImageRuns(images)
	if err != nil {
		return nil, err
	}
	labs, err := labelsOf(labels, n)
	if err != nil {
		return nil, err
	}
	src, err := newRunsSource(runs, n)
	if err != nil {
		return nil, err
	}
	return RemoteDataset(labs, src), nil
}

// readIDX reads a uint8 IDX file with ndims dimensions. size validates the
// header's dimensions and returns the payload length; it runs before the
// payload buffer is allocated, so a lying header costs nothing. payload reads
// the payload and returns what it keeps of it (readPayload: all of it). The
// payload must be followed by EOF, which for gzip input also makes the reader
// check the stream's CRC.
func readIDX(r io.Reader, what string, magic uint32, ndims int, size func(dims []uint32) (int, error), payload payloadReader) ([]uint32, []byte, error) {
	if r == nil {
		return nil, nil, fmt.Errorf("mnist %s: nil reader", what)
	}
	zr, gz, err := maybeGunzip(r, what)
	if err != nil {
		return nil, nil, err
	}
	hdr := make([]byte, 4*(1+ndims))
	got, err := io.ReadFull(zr, hdr)
	// A wrong magic number explains more than a short header: a small
	// labels file passed as images is shorter than an images header.
	if got >= 4 {
		if m := binary.BigEndian.Uint32(hdr); m != magic {
			return nil, nil, magicErr(what, m, magic)
		}
	}
	if err != nil {
		if isEOF(err) {
			return nil, nil, fmt.Errorf("mnist %s: truncated header: got %d bytes, want %d", what, got, len(hdr))
		}
		return nil, nil, readErr(what, err)
	}
	dims := make([]uint32, ndims)
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(hdr[4*(i+1):])
	}
	if dims[0] == 0 || dims[0] > MaxImages {
		return nil, nil, fmt.Errorf("mnist %s: header claims %d %s, want 1..%d (MNIST has 60000 train, 10000 test)", what, dims[0], what, MaxImages)
	}
	want, err := size(dims)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist %s: %w", what, err)
	}
	buf, got, err := payload(zr, want, unpackedSize(r, gz) == int64(len(hdr)+want))
	if err != nil {
		if isEOF(err) {
			return nil, nil, fmt.Errorf("mnist %s: truncated: got %d bytes of data, want %d for %d %s", what, got, want, dims[0], what)
		}
		return nil, nil, readErr(what, err)
	}
	var extra [1]byte
	if got, err := io.ReadFull(zr, extra[:]); got > 0 {
		// In gzip input, extra bytes usually mean flipped bits in the
		// deflate data rather than a wrong header; reading on to the
		// stream's end (bounded, and without keeping anything) lets the
		// CRC check say so.
		if gz {
			if _, err := io.CopyN(io.Discard, zr, MaxImages*ImageSize*ImageSize); err != nil && err != io.EOF {
				return nil, nil, readErr(what, err)
			}
		}
		return nil, nil, fmt.Errorf("mnist %s: trailing data after the %d bytes the header promises: wrong count or not an MNIST file", what, want)
	} else if err != io.EOF {
		return nil, nil, readErr(what, err)
	}
	return dims, buf, nil
}

// payloadReader reads an IDX file's payload of want bytes from r, and returns what it keeps of it
// and how many bytes it read. exact says that the file's size confirms want (see unpackedSize). On a
// short input it fails with io.ErrUnexpectedEOF.
type payloadReader func(r io.Reader, want int, exact bool) (kept []byte, read int, err error)

// readPayload, a payloadReader, reads exactly want bytes and keeps them. When
// the file confirms the header's size (exact; see unpackedSize), the buffer is
// allocated once, at that size:
// growing it would hold 32 MB and 47 MB at once for the training images, and
// a browser worker's memory keeps its peak for good. Otherwise it grows as
// the data arrives (doubling, from 1 MiB), so that a 16-byte file whose
// header claims 100,000 images costs 1 MiB, not 78 MB, before it turns out
// truncated. On a short input it returns what it read and
// io.ErrUnexpectedEOF.
func readPayload(r io.Reader, want int, exact bool) ([]byte, int, error) {
	buf := make([]byte, 0, min(want, 1<<20))
	if exact {
		buf = make([]byte, 0, want)
	}
	for len(buf) < want {
		if len(buf) == cap(buf) {
			buf = append(make([]byte, 0, min(want, 2*cap(buf))), buf...)
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, len(buf), err
		}
	}
	return buf, len(buf), nil
}

// readRuns, a payloadReader for images, reads want bytes of images and keeps them as runs
// (appendRuns), an image at a time.
func readRuns(r io.Reader, want int, exact bool) ([]byte, int, error) {
	const size = ImageSize * ImageSize
	// MNIST's runs take about a quarter of the pixels; when the size is not confirmed, growing from
	// 1 MiB keeps a lying header cheap, as in readPayload.
	runs := make([]byte, 0, min(want/4, 1<<20))
	if exact {
		runs = make([]byte, 0, want/4+want/16)
	}
	img := make([]byte, size)
	for read := 0; read < want; read += size {
		if n, err := io.ReadFull(r, img); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, read + n, err
		}
		runs = appendRuns(runs, img)
	}
	return runs, want, nil
}

// unpackedSize returns the size of r's content once unpacked, or -1 when it
// cannot be known before reading it. It is known when r holds the whole file
// in memory (a *bytes.Reader, as every caller in this project passes): its
// length, or for gzip the ISIZE field of the trailer, the unpacked size
// modulo 2^32. A file whose trailer lies is still caught, by the CRC check
// at the end of the stream, after one allocation of at most the MaxImages
// that the header check allows.
func unpackedSize(r io.Reader, gz bool) int64 {
	br, ok := r.(*bytes.Reader)
	if !ok {
		return -1
	}
	if !gz {
		return br.Size()
	}
	var trailer [4]byte
	if _, err := br.ReadAt(trailer[:], br.Size()-4); err != nil {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(trailer[:]))
}

// maybeGunzip returns a reader of r's decompressed content when r starts
// with the gzip magic 0x1f 0x8b (and reports gz), else of r itself: the
// canonical files are gzipped but users often keep unpacked copies.
func maybeGunzip(r io.Reader, what string) (_ io.Reader, gz bool, _ error) {
	br := bufio.NewReader(r)
	b, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, false, readErr(what, err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return br, false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, true, readErr(what, err)
	}
	return zr, true, nil
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

// readErr labels err as gzip damage when it comes from the decompressor, so
// the user knows to download the file again rather than suspect the code.
func readErr(what string, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return fmt.Errorf("mnist %s: corrupted gzip stream: %w", what, err)
	case isEOF(err):
		return fmt.Errorf("mnist %s: truncated gzip stream: %w", what, err)
	}
	return fmt.Errorf("mnist %s: read error: %w", what, err)
}

func magicErr(what string, got, want uint32) error {
	hint := "not an MNIST IDX file"
	switch got {
	case imagesMagic:
		hint = "is this an images file?"
	case labelsMagic:
		hint = "is this a labels file?"
	}
	return fmt.Errorf("mnist %s: wrong magic number 0x%08x (want 0x%08x): %s", what, got, want, hint)
}
