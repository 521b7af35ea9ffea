package mnist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	. "github.com/mnist-trainer/mnist/mnist"
)

// writeIDXPair writes images and labels as the page exports My digits.
func writeIDXPair(tb testing.TB, images, labels []byte) (img, lab []byte) {
	tb.Helper()
	var ib, lb bytes.Buffer
	if err := WriteImages(&ib, images); err != nil {
		tb.Fatal(err)
	}
	if err := WriteLabels(&lb, labels); err != nil {
		tb.Fatal(err)
	}
	return ib.Bytes(), lb.Bytes()
}

// TestWriteIDXRoundTrip writes real MNIST digits and reads them back with the parser, and checks
// the bytes a loader of the course notebook reads first: gzip, then the big-endian header.
func TestWriteIDXRoundTrip(t *testing.T) {
	_, test := mnisttest.Sets(t)
	set := test.Slice(0, 37)
	img, lab := writeIDXPair(t, set.Images, set.Labels)

	pix, n, rows, cols, err := ParseImages(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if n != 37 || rows != ImageSize || cols != ImageSize || !bytes.Equal(pix, set.Images) {
		t.Fatalf("read back %d images of %dx%d; the pixels differ: %v", n, rows, cols, !bytes.Equal(pix, set.Images))
	}
	labels, err := ParseLabels(bytes.NewReader(lab))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(labels, set.Labels) {
		t.Fatalf("labels %v, want %v", labels, set.Labels)
	}

	// The notebook's loaders: gzip.open, then magic, count (and rows, cols) as big-endian uint32.
	for _, c := range []struct {
		file []byte
		want []uint32
	}{{img, []uint32{2051, 37, 28, 28}}, {lab, []uint32{2049, 37}}} {
		zr, err := gzip.NewReader(bytes.NewReader(c.file))
		if err != nil {
			t.Fatal(err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("gzip header names %q, time %v: want neither, so that a set always gives the same bytes", zr.Name, zr.ModTime)
		}
		raw := mnisttest.Gunzip(t, c.file)
		for i, w := range c.want {
			if got := binary.BigEndian.Uint32(raw[4*i:]); got != w {
				t.Errorf("header word %d is %d, want %d", i, got, w)
			}
		}
	}

	// The same set gives the same bytes; LoadIDXPair takes the two files in either order.
	img2, lab2 := writeIDXPair(t, set.Images, set.Labels)
	if !bytes.Equal(img, img2) || !bytes.Equal(lab, lab2) {
		t.Error("writing the same set twice gave different files")
	}
	for _, pair := range [][2]IDXFile{{{"a", img}, {"b", lab}}, {{"b", lab}, {"a", img}}} {
		d, err := LoadIDXPair(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d.Images, set.Images) || !bytes.Equal(d.Labels, set.Labels) || d.Len() != 37 {
			t.Errorf("LoadIDXPair(%s, %s) read another set", pair[0].Name, pair[1].Name)
		}
	}
}

func TestWriteIDXRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(io.Writer) error
		want  string
	}{
		{"no images", func(w io.Writer) error { return WriteImages(w, nil) }, "0 images; a file holds 1..100000"},
		{"part of an image", func(w io.Writer) error { return WriteImages(w, make([]byte, 784+10)) }, "794 bytes is not a whole number of 28x28 images"},
		{"no labels", func(w io.Writer) error { return WriteLabels(w, nil) }, "0 labels"},
		{"a label of 10", func(w io.Writer) error { return WriteLabels(w, []byte{1, 2, 10}) }, "label 10 at index 2 is out of range 0..9"},
		{"too many labels", func(w io.Writer) error { return WriteLabels(w, make([]byte, MaxImages+1)) }, "100001 labels; a file holds 1..100000"},
	} {
		var buf bytes.Buffer
		err := c.write(&buf)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written before the refusal", c.name, buf.Len())
		}
	}
}

// TestLoadIDXPairErrors checks the message of each bad pair a student or an instructor may pick:
// it names the file at fault and says what is wrong with it.
func TestLoadIDXPairErrors(t *testing.T) {
	_, test := mnisttest.Sets(t)
	set := test.Slice(0, 20)
	img, lab := writeIDXPair(t, set.Images, set.Labels)
	_, lab19 := writeIDXPair(t, set.Images[:19*784], set.Labels[:19])
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, c := range []struct {
		name string
		a, b IDXFile
		want string
	}{
		{"a picture", IDXFile{"drawing.png", png}, IDXFile{"l.gz", lab},
			"drawing.png: wrong magic number 0x89504e47 (want 0x00000803 for images or 0x00000801 for labels): not an MNIST IDX file"},
		{"two images files", IDXFile{"a.gz", img}, IDXFile{"b.gz", img}, "a.gz and b.gz are both images files: choose one images file (idx3) and its labels file (idx1)"},
		{"two labels files", IDXFile{"a.gz", lab}, IDXFile{"b.gz", lab}, "are both labels files"},
		{"counts differ", IDXFile{"i.gz", img}, IDXFile{"l.gz", lab19}, "i.gz holds 20 images but l.gz holds 19 labels: choose the two files of one set"},
		{"a label of 12", IDXFile{"i.gz", img}, IDXFile{"l", idxFile(LabelsMagic, []uint32{20}, append(make([]byte, 19), 12))}, "l: mnist labels: label 12 at index 19 is out of range 0..9"},
		{"truncated images", IDXFile{"i.gz", img[:len(img)/2]}, IDXFile{"l.gz", lab}, "i.gz: mnist images: truncated: got"},
		{"a raw file cut short", IDXFile{"i", idxFile(ImagesMagic, []uint32{20, 28, 28}, nil)}, IDXFile{"l", idxFile(LabelsMagic, []uint32{20}, set.Labels)}, "i: mnist images: truncated: got 0 bytes of data, want 15680 for 20 images"},
		{"an empty file", IDXFile{"empty.gz", nil}, IDXFile{"l.gz", lab}, "empty.gz: too short for an MNIST IDX file (0 bytes)"},
	} {
		d, err := LoadIDXPair(c.a, c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
		if d != nil {
			t.Errorf("%s: a dataset besides the error", c.name)
		}
	}
	if _, err := LoadIDXPair(IDXFile{"a", img}, IDXFile{"b", img}); !errors.Is(err, ErrNotAPair) {
		t.Errorf("two images files: %v is not ErrNotAPair", err)
	}
}
