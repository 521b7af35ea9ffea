package mnist

// Writing IDX files, and reading a pair that a person picked: a student's own digits ("My
// digits") leave the browser as the same gzipped IDX files MNIST comes in, which ParseImages and
// ParseLabels read back, and so do the course notebook's loaders (gzip, a big-endian header, then
// the bytes).

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WriteImages writes images, n×ImageSize×ImageSize bytes (0 = background, 255 = ink, image after
// image, row-major), as a gzipped IDX3 images file: what ParseImages reads. The gzip header holds
// no name and no time, so the same images always give the same bytes.
func WriteImages(w io.Writer, images []byte) error {
	const pixels = ImageSize * ImageSize
	if len(images)%pixels != 0 {
		return fmt.Errorf("mnist images: %d bytes is not a whole number of %dx%d images", len(images), ImageSize, ImageSize)
	}
	n := len(images) / pixels
	if err := checkCount("images", n); err != nil {
		return err
	}
	return writeIDX(w, imagesMagic, []uint32{uint32(n), ImageSize, ImageSize}, images)
}

// WriteLabels writes labels, one byte in 0..NumClasses-1 each, as a gzipped IDX1 labels file:
// what ParseLabels reads. A label out of range is refused, as ParseLabels would refuse it.
func WriteLabels(w io.Writer, labels []byte) error {
	if err := checkCount("labels", len(labels)); err != nil {
		return err
	}
	for i, l := range labels {
		if l >= NumClasses {
			return fmt.Errorf("mnist labels: label %d at index %d is out of range 0..%d", l, i, NumClasses-1)
		}
	}
	return writeIDX(w, labelsMagic, []uint32{uint32(len(labels))}, labels)
}

// checkCount refuses a count the parser would refuse: none, or more than MaxImages.
func checkCount(what string, n int) error {
	if n < 1 || n > MaxImages {
		return fmt.Errorf("mnist %s: %d %s; a file holds 1..%d", what, n, what, MaxImages)
	}
	return nil
}

// writeIDX writes the magic number, the dimensions and data, gzipped.
func writeIDX(w io.Writer, magic uint32, dims []uint32, data []byte) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	hdr := make([]byte, 4*(1+len(dims)))
	binary.BigEndian.PutUint32(hdr, magic)
	for i, d := range dims {
		binary.BigEndian.PutUint32(hdr[4*(i+1):], d)
	}
	if _, err := zw.Write(hdr); err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}

// The names of My digits' files, as the page exports them, in the pattern of MNIST's own.
const (
	MyDigitsImagesFile = "my-digits-images-idx3-ubyte.gz"
	MyDigitsLabelsFile = "my-digits-labels-idx1-ubyte.gz"
)

// IDXFile is one file a person chose, as a page or a command gets it: its name, for messages, and
// its bytes (gzipped or raw).
type IDXFile struct {
	Name string
	Data []byte
}

// ErrNotAPair is returned (wrapped, with the details) by LoadIDXPair when the two files are not
// one images file and one labels file.
var ErrNotAPair = errors.New("choose one images file (idx3) and its labels file (idx1)")

// LoadIDXPair parses an images file and its labels file, given in either order: they are told
// apart by their magic numbers, not their names, since a file saved twice by a browser becomes
// "my-digits-images-idx3-ubyte (1).gz". Every error starts with the name of the file at fault:
// a wrong magic number, a truncated or corrupted file, a label outside 0..9 (the parser's
// messages), two files of the same kind, or counts that differ.
func LoadIDXPair(a, b IDXFile) (*Dataset, error) {
	images, labels := a, b
	ka, err := idxKind(a)
	if err != nil {
		return nil, err
	}
	kb, err := idxKind(b)
	if err != nil {
		return nil, err
	}
	switch {
	case ka == kb:
		return nil, fmt.Errorf("%s and %s are both %s files: %w", a.Name, b.Name, ka, ErrNotAPair)
	case ka == "labels":
		images, labels = b, a
	}
	pix, n, _, _, err := ParseImages(bytes.NewReader(images.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", images.Name, err)
	}
	labs, err := ParseLabels(bytes.NewReader(labels.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", labels.Name, err)
	}
	if len(labs) != n {
		return nil, fmt.Errorf("%s holds %d images but %s holds %d labels: choose the two files of one set",
			images.Name, n, labels.Name, len(labs))
	}
	return &Dataset{Images: pix, Labels: labs, Rows: ImageSize, Cols: ImageSize}, nil
}

// idxKind says whether f is an images or a labels file, from its magic number; anything else is
// an error naming the file, in the parser's words.
func idxKind(f IDXFile) (string, error) {
	zr, _, err := maybeGunzip(bytes.NewReader(f.Data), "file")
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.Name, err)
	}
	var magic [4]byte
	if _, err := io.ReadFull(zr, magic[:]); isEOF(err) {
		return "", fmt.Errorf("%s: too short for an MNIST IDX file (%d bytes)", f.Name, len(f.Data))
	} else if err != nil {
		return "", fmt.Errorf("%s: %w", f.Name, readErr("file", err))
	}
	switch m := binary.BigEndian.Uint32(magic[:]); m {
	case imagesMagic:
		return "images", nil
	case labelsMagic:
		return "labels", nil
	default:
		return "", fmt.Errorf("%s: wrong magic number 0x%08x (want 0x%08x for images or 0x%08x for labels): not an MNIST IDX file",
			f.Name, m, imagesMagic, labelsMagic)
	}
}
