package mnist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	. "github.com/mnist-trainer/mnist/mnist"
)

// idxFile builds an IDX file: magic, big-endian dimensions, payload.
func idxFile(magic uint32, dims []uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, payload...)
}

func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tinyPixels returns n images of 28x28 where image i is filled with i+1, so
// views can be told apart.
func tinyPixels(n int) []byte {
	pix := make([]byte, 0, n*ImageSize*ImageSize)
	for i := range n {
		pix = append(pix, bytes.Repeat([]byte{byte(i + 1)}, ImageSize*ImageSize)...)
	}
	return pix
}

// flip returns a copy of data with the bits of data[i] inverted.
func flip(data []byte, i int) []byte {
	c := slices.Clone(data)
	c[i] ^= 0xff
	return c
}

func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestMNISTRealFiles(t *testing.T) {
	train, test := mnisttest.Sets(t)
	for _, c := range []struct {
		name       string
		d          *Dataset
		n          int
		firstLabel byte
	}{
		{"train", train, 60000, 5},
		{"test", test, 10000, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			if d.Len() != c.n || len(d.Labels) != c.n || len(d.Images) != c.n*ImageSize*ImageSize {
				t.Fatalf("Len %d, %d labels, %d pixels; want %d examples", d.Len(), len(d.Labels), len(d.Images), c.n)
			}
			if d.Rows != ImageSize || d.Cols != ImageSize {
				t.Errorf("image size %dx%d, want %dx%d", d.Rows, d.Cols, ImageSize, ImageSize)
			}
			if d.Labels[0] != c.firstLabel {
				t.Errorf("first label %d, want %d", d.Labels[0], c.firstLabel)
			}
			// MNIST classes hold 9% to 11.3% of the examples each.
			var hist [NumClasses]int
			for _, l := range d.Labels {
				hist[l]++
			}
			for class, k := range hist {
				if k < c.n*8/100 || k > c.n*12/100 {
					t.Errorf("class %d has %d of %d examples, want 8%%..12%%: %v", class, k, c.n, hist)
				}
			}
			// Pixels span the full 0..255 range.
			if lo, hi := slices.Min(d.Images), slices.Max(d.Images); lo != 0 || hi != 255 {
				t.Errorf("pixel range %d..%d, want 0..255", lo, hi)
			}
		})
	}
}

func TestVerifyKnownFiles(t *testing.T) {
	for _, f := range KnownFiles {
		data := mnisttest.ReadFile(t, f.Name)
		if err := VerifyFile(f.Name, data); err != nil {
			t.Errorf("VerifyFile(%s): %v", f.Name, err)
		}
		// Browsers hand over URLs or paths; only the last element counts.
		if err := VerifyFile("https://example.com/mnist/"+f.Name, data); err != nil {
			t.Errorf("VerifyFile(URL of %s): %v", f.Name, err)
		}
	}
}

func TestVerifyFileErrors(t *testing.T) {
	labels := mnisttest.ReadFile(t, TrainLabelsFile) // 28881 bytes
	for _, c := range []struct {
		name, file string
		data       []byte
		want       []string
	}{
		{"truncated", TrainLabelsFile, labels[:20000], []string{"train-labels-idx1-ubyte.gz truncated: got 20000 bytes, want 28881"}},
		{"empty", TrainLabelsFile, nil, []string{"truncated: got 0 bytes, want 28881"}},
		{"too long", TrainLabelsFile, append(slices.Clone(labels), 0), []string{"too long: got 28882 bytes, want 28881"}},
		{"flipped bit", TrainLabelsFile, flip(labels, 10000), []string{"train-labels-idx1-ubyte.gz corrupted: SHA-256", "want 3552534a"}},
		{"other known file's bytes", TestLabelsFile, labels, []string{"t10k-labels-idx1-ubyte.gz too long: got 28881 bytes, want 4542"}},
		{"unknown name", "mnist.zip", labels, []string{`unknown file "mnist.zip"`, TrainImagesFile}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifyFile(c.file, c.data), c.want...)
		})
	}
}

func TestParseRawAndGzipAgree(t *testing.T) {
	gzImages, gzLabels := mnisttest.ReadFile(t, TestImagesFile), mnisttest.ReadFile(t, TestLabelsFile)
	rawImages, rawLabels := mnisttest.Gunzip(t, gzImages), mnisttest.Gunzip(t, gzLabels)

	want, err := LoadDataset(bytes.NewReader(gzImages), bytes.NewReader(gzLabels))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadDataset(bytes.NewReader(rawImages), bytes.NewReader(rawLabels))
	if err != nil {
		t.Fatalf("raw files: %v", err)
	}
	if got.Len() != 10000 || !bytes.Equal(got.Images, want.Images) || !bytes.Equal(got.Labels, want.Labels) {
		t.Errorf("raw and gzipped t10k files parse differently")
	}
	if !bytes.Equal(rawImages[16:], got.Images) {
		t.Errorf("images differ from the file payload")
	}
}

func TestParseImagesErrors(t *testing.T) {
	valid := idxFile(ImagesMagic, []uint32{3, 28, 28}, tinyPixels(3)) // 16 + 2352 bytes
	gz := gzipped(t, valid)
	realGz := mnisttest.ReadFile(t, TestImagesFile)
	for _, c := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"empty", nil, []string{"mnist images: truncated header: got 0 bytes, want 16"}},
		{"cut in header", valid[:10], []string{"mnist images: truncated header: got 10 bytes, want 16"}},
		{"cut in payload", valid[:16+784+100], []string{"mnist images: truncated: got 884 bytes of data, want 2352 for 3 images"}},
		{"gzipped, cut in payload", gzipped(t, valid[:16+100]), []string{"truncated: got 100 bytes of data, want 2352"}},
		{"gzip stream cut short", realGz[:len(realGz)/2], []string{"mnist images: truncated"}},
		{"gzip trailer cut", gz[:len(gz)-4], []string{"mnist images: truncated gzip stream"}},
		{"trailing garbage", append(slices.Clone(valid), 0), []string{"mnist images: trailing data after the 2352 bytes"}},
		{"labels file", idxFile(LabelsMagic, []uint32{3}, []byte{1, 2, 3}), []string{"mnist images: wrong magic number 0x00000801 (want 0x00000803): is this a labels file?"}},
		{"not IDX", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), []string{"wrong magic number 0x89504e47", "not an MNIST IDX file"}},
		{"count beyond payload", idxFile(ImagesMagic, []uint32{4, 28, 28}, tinyPixels(3)), []string{"truncated: got 2352 bytes of data, want 3136 for 4 images"}},
		{"zero count", idxFile(ImagesMagic, []uint32{0, 28, 28}, nil), []string{"header claims 0 images, want 1..100000"}},
		{"billion images", idxFile(ImagesMagic, []uint32{1e9, 28, 28}, nil), []string{"header claims 1000000000 images, want 1..100000"}},
		{"zero rows", idxFile(ImagesMagic, []uint32{3, 0, 28}, tinyPixels(3)), []string{"image size is 0x28, want 28x28"}},
		{"wrong cols", idxFile(ImagesMagic, []uint32{3, 28, 32}, tinyPixels(3)), []string{"image size is 28x32, want 28x28"}},
		{"gzip CRC flipped", flip(gz, len(gz)-8), []string{"mnist images: corrupted gzip stream", "checksum"}},
		{"gzip header method", flip(gz, 2), []string{"mnist images: corrupted gzip stream", "invalid header"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			images, n, rows, cols, err := ParseImages(bytes.NewReader(c.in))
			wantErr(t, err, c.want...)
			if images != nil || n != 0 || rows != 0 || cols != 0 {
				t.Errorf("got %d bytes, n=%d, %dx%d alongside the error; want zero values", len(images), n, rows, cols)
			}
		})
	}
	if _, _, _, _, err := ParseImages(nil); err == nil {
		t.Error("ParseImages(nil): no error")
	}
}

// TestParseFlippedRealGzip flips one byte at various places in the real
// gzipped files: the deflate data or the CRC must catch it (the gzip header's
// time, OS and file-name bytes are unchecked; VerifyFile covers those).
func TestParseFlippedRealGzip(t *testing.T) {
	images, labels := mnisttest.ReadFile(t, TestImagesFile), mnisttest.ReadFile(t, TestLabelsFile)
	for _, frac := range []float64{0.01, 0.25, 0.5, 0.75, 0.99} {
		i := int(frac * float64(len(images)))
		_, _, _, _, err := ParseImages(bytes.NewReader(flip(images, i)))
		wantErr(t, err, "mnist images: corrupted gzip stream")
		i = int(frac * float64(len(labels)))
		_, err = ParseLabels(bytes.NewReader(flip(labels, i)))
		wantErr(t, err, "mnist labels: corrupted gzip stream")
	}
}

func TestParseImagesValid(t *testing.T) {
	pix := tinyPixels(3)
	for name, in := range map[string][]byte{
		"raw":  idxFile(ImagesMagic, []uint32{3, 28, 28}, pix),
		"gzip": gzipped(t, idxFile(ImagesMagic, []uint32{3, 28, 28}, pix)),
	} {
		images, n, rows, cols, err := ParseImages(bytes.NewReader(in))
		if err != nil || n != 3 || rows != 28 || cols != 28 || !bytes.Equal(images, pix) {
			t.Errorf("%s: got n=%d %dx%d err=%v, pixels equal: %v", name, n, rows, cols, err, bytes.Equal(images, pix))
		}
	}
}

func TestParseLabelsErrors(t *testing.T) {
	valid := idxFile(LabelsMagic, []uint32{3}, []byte{5, 0, 9})
	for _, c := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"cut in header", valid[:5], []string{"mnist labels: truncated header: got 5 bytes, want 8"}},
		{"cut in payload", valid[:10], []string{"mnist labels: truncated: got 2 bytes of data, want 3 for 3 labels"}},
		{"trailing garbage", append(slices.Clone(valid), 1), []string{"mnist labels: trailing data"}},
		{"images file", idxFile(ImagesMagic, []uint32{1, 28, 28}, tinyPixels(1)), []string{"mnist labels: wrong magic number 0x00000803 (want 0x00000801): is this an images file?"}},
		{"label 10", idxFile(LabelsMagic, []uint32{3}, []byte{5, 10, 9}), []string{"mnist labels: label 10 at index 1 is out of range 0..9"}},
		{"label 255", gzipped(t, idxFile(LabelsMagic, []uint32{3}, []byte{5, 0, 255})), []string{"label 255 at index 2"}},
		{"billion labels", idxFile(LabelsMagic, []uint32{1e9}, nil), []string{"header claims 1000000000 labels"}},
		{"gzip CRC flipped", flip(gzipped(t, valid), len(gzipped(t, valid))-8), []string{"mnist labels: corrupted gzip stream"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			labels, err := ParseLabels(bytes.NewReader(c.in))
			wantErr(t, err, c.want...)
			if labels != nil {
				t.Errorf("got %d labels alongside the error", len(labels))
			}
		})
	}
	if got, err := ParseLabels(bytes.NewReader(valid)); err != nil || !bytes.Equal(got, []byte{5, 0, 9}) {
		t.Errorf("valid labels: got %v, %v", got, err)
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	images := idxFile(ImagesMagic, []uint32{3, 28, 28}, tinyPixels(3))
	for _, c := range []struct {
		name           string
		images, labels []byte
		want           []string
	}{
		{"count mismatch", images, idxFile(LabelsMagic, []uint32{2}, []byte{1, 2}), []string{"mnist: 3 images but 2 labels"}},
		{"label out of range", images, idxFile(LabelsMagic, []uint32{3}, []byte{1, 2, 11}), []string{"label 11 at index 2"}},
		{"swapped files", idxFile(LabelsMagic, []uint32{3}, []byte{1, 2, 3}), images, []string{"is this a labels file?"}},
		{"bad images", images[:20], idxFile(LabelsMagic, []uint32{3}, []byte{1, 2, 3}), []string{"mnist images: truncated"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := LoadDataset(bytes.NewReader(c.images), bytes.NewReader(c.labels))
			wantErr(t, err, c.want...)
			if d != nil {
				t.Error("got a Dataset alongside the error")
			}
		})
	}
}

// TestParseHugeHeaderNoAlloc checks that a header claiming 10^9 images is
// refused before the 784 GB buffer it asks for is allocated (or any large
// part of it).
func TestParseHugeHeaderNoAlloc(t *testing.T) {
	const limit = 2 << 20
	for _, c := range []struct {
		name  string
		in    []byte
		parse func(io.Reader) error
	}{
		{"images raw", idxFile(ImagesMagic, []uint32{1e9, 28, 28}, make([]byte, 4096)), func(r io.Reader) error { _, _, _, _, err := ParseImages(r); return err }},
		{"images gzip", gzipped(t, idxFile(ImagesMagic, []uint32{1e9, 28, 28}, make([]byte, 4096))), func(r io.Reader) error { _, _, _, _, err := ParseImages(r); return err }},
		{"labels raw", idxFile(LabelsMagic, []uint32{1e9}, make([]byte, 4096)), func(r io.Reader) error { _, err := ParseLabels(r); return err }},
		{"images max uint32", idxFile(ImagesMagic, []uint32{1<<32 - 1, 1<<32 - 1, 1<<32 - 1}, nil), func(r io.Reader) error { _, _, _, _, err := ParseImages(r); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := c.parse(bytes.NewReader(c.in))
			runtime.ReadMemStats(&after)
			wantErr(t, err, "header claims")
			if n := after.TotalAlloc - before.TotalAlloc; n > limit {
				t.Errorf("allocated %d bytes rejecting the header, want < %d", n, limit)
			}
		})
	}
}

// TestParseTruncatedMaxCountSmallAlloc checks that a tiny file whose header claims the largest
// allowed count costs little before it is found truncated: the buffer grows with the data.
func TestParseTruncatedMaxCountSmallAlloc(t *testing.T) {
	in := idxFile(ImagesMagic, []uint32{MaxImages, 28, 28}, make([]byte, 16))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, _, err := ParseImages(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	wantErr(t, err, "truncated: got 16 bytes of data, want 78400000")
	if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
		t.Errorf("allocated %d bytes for a 32-byte file, want < 2 MiB", n)
	}
}

// TestParseRealImagesAllocateOnce checks that the training images, parsed from the whole gzipped
// file in memory as the browser worker and the native tools do, take one buffer of their size: the
// gzip trailer confirms the header, so the buffer is not grown by doubling (32 MB and 47 MB at once).
func TestParseRealImagesAllocateOnce(t *testing.T) {
	data := mnisttest.ReadFile(t, TrainImagesFile)
	want := 60000 * ImageSize * ImageSize
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	images, _, _, _, err := ParseImages(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if err != nil || len(images) != want {
		t.Fatalf("ParseImages: %d bytes, %v", len(images), err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > uint64(want)+8<<20 {
		t.Errorf("allocated %d bytes for %d bytes of images, want at most 8 MiB more (the decompressor's own buffers); growing it took 116 MB", n, want)
	}

	// A trailer that disagrees with the header (here, one that was cut off along with the data)
	// gets the growing buffer, and the truncation is reported as before.
	_, _, _, _, err = ParseImages(bytes.NewReader(data[:len(data)/2]))
	wantErr(t, err, "truncated: got")
}

func TestDataset(t *testing.T) {
	d := &Dataset{Images: tinyPixels(3), Labels: []byte{4, 5, 6}, Rows: 28, Cols: 28}
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	img := d.Image(1)
	if len(img) != 784 || cap(img) != 784 || img[0] != 2 || img[783] != 2 {
		t.Errorf("Image(1): len %d cap %d, first %d last %d; want 784 bytes of 2", len(img), cap(img), img[0], img[783])
	}
	if &img[0] != &d.Images[784] {
		t.Error("Image(1) copies instead of returning a view")
	}
	for _, i := range []int{-1, 3, 1 << 40} {
		if got := d.Image(i); got != nil {
			t.Errorf("Image(%d) = %d bytes, want nil", i, len(got))
		}
	}

	for _, c := range []struct {
		start, end int
		labels     []byte
	}{
		{0, 3, []byte{4, 5, 6}},
		{1, 3, []byte{5, 6}},
		{1, 2, []byte{5}},
		{2, 2, []byte{}},
		{-5, 100, []byte{4, 5, 6}}, // clamped
		{2, 1, []byte{}},           // end before start
		{7, 9, []byte{}},
	} {
		s := d.Slice(c.start, c.end)
		if s.Len() != len(c.labels) || !bytes.Equal(s.Labels, c.labels) || len(s.Images) != len(c.labels)*784 || s.Rows != 28 || s.Cols != 28 {
			t.Errorf("Slice(%d, %d): Len %d, labels %v, %d pixels; want labels %v", c.start, c.end, s.Len(), s.Labels, len(s.Images), c.labels)
		}
	}
	s := d.Slice(1, 2)
	if &s.Images[0] != &d.Images[784] || &s.Labels[0] != &d.Labels[1] {
		t.Error("Slice copies instead of sharing memory")
	}
	if s.Image(0)[0] != 2 {
		t.Errorf("Slice(1, 2).Image(0) is image %d, want 1", s.Image(0)[0]-1)
	}
	// Appending to a view must not overwrite the parent's next example.
	_ = append(s.Labels, 99)
	if d.Labels[2] != 6 {
		t.Error("append to a Slice overwrote the parent Dataset")
	}

	// Degenerate datasets must not panic.
	var nilDS *Dataset
	for _, z := range []*Dataset{nilDS, {}, {Images: tinyPixels(2), Labels: []byte{1, 2, 3}, Rows: 28, Cols: 28}} {
		_ = z.Image(0)
		_ = z.Slice(0, 5).Len()
	}
	if n := (&Dataset{Images: tinyPixels(2), Labels: []byte{1, 2, 3}, Rows: 28, Cols: 28}).Len(); n != 2 {
		t.Errorf("Len of 2 images with 3 labels = %d, want 2", n)
	}
}

// recordingSource is an ImageSource over a Dataset of its own that records what it is asked.
type recordingSource struct {
	d                 *Dataset
	asked, prefetched [][]int32
}

func (s *recordingSource) Images(indices []int32, dst []byte) error {
	s.asked = append(s.asked, slices.Clone(indices))
	return s.d.Gather(indices, dst)
}

func (s *recordingSource) Prefetch(indices []int32) {
	s.prefetched = append(s.prefetched, slices.Clone(indices))
}

// TestGatherPrefetch: Gather copies the images asked for, in order, from a Dataset of its own or
// from a RemoteDataset's source, with a Slice's indices shifted to the source's; Prefetch passes
// the same indices on to the source, and does nothing without one.
func TestGatherPrefetch(t *testing.T) {
	local := &Dataset{Images: tinyPixels(4), Labels: []byte{0, 1, 2, 3}, Rows: 28, Cols: 28}
	src := &recordingSource{d: local}
	remote := RemoteDataset(local.Labels, src)
	for _, d := range []*Dataset{local, remote, local.Slice(1, 4), remote.Slice(1, 4)} {
		dst := make([]byte, 2*784)
		if err := d.Gather([]int32{2, 0}, dst); err != nil {
			t.Fatal(err)
		}
		d.Prefetch([]int32{1})
		if want := d.Labels[2] + 1; dst[0] != want || dst[783] != want || dst[784] != d.Labels[0]+1 {
			t.Errorf("Gather([2 0]) of images %v: got images %d and %d", d.Labels, dst[0]-1, dst[784]-1)
		}
	}
	wantAsked, wantPrefetched := [][]int32{{2, 0}, {3, 1}}, [][]int32{{1}, {2}}
	if !slices.EqualFunc(src.asked, wantAsked, slices.Equal) || !slices.EqualFunc(src.prefetched, wantPrefetched, slices.Equal) {
		t.Errorf("the source was asked %v and told %v; want %v and %v", src.asked, src.prefetched, wantAsked, wantPrefetched)
	}
	remote.Prefetch(nil)
	if len(src.prefetched) != 2 {
		t.Errorf("Prefetch of no indices reached the source: %v", src.prefetched)
	}
}
