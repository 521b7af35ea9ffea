package mnist_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	. "github.com/mnist-trainer/mnist/mnist"
)

const pixels = ImageSize * ImageSize

// decodeRuns reads ParseImageRuns' runs back, as web/trainset.js's TrainingImages does.
func decodeRuns(t *testing.T, runs []byte) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(runs); {
		if i+2 > len(runs) || i+2+int(runs[i+1]) > len(runs) {
			t.Fatalf("a token at byte %d runs past the end", i)
		}
		out = append(out, make([]byte, runs[i])...)
		out = append(out, runs[i+2:i+2+int(runs[i+1])]...)
		i += 2 + int(runs[i+1])
	}
	return out
}

// TestImageRunsFormat pins the runs of three images, which web/trainset.js's tests (browsers/
// trainset.test.mjs) decode too: a blank image, a full one, and one with a pixel at each end.
func TestImageRunsFormat(t *testing.T) {
	full := bytes.Repeat([]byte{255}, pixels)
	fullRuns := slices.Concat([]byte{0, 255}, full[:255], []byte{0, 255}, full[:255], []byte{0, 255}, full[:255], []byte{0, 19}, full[:19])
	corners := make([]byte, pixels)
	corners[0], corners[pixels-1] = 7, 9
	blankRuns := []byte{255, 0, 255, 0, 255, 0, 19, 0}
	cornersRuns := []byte{0, 1, 7, 255, 0, 255, 0, 255, 0, 17, 1, 9}
	images := slices.Concat(make([]byte, pixels), full, corners)
	file := idxFile(ImagesMagic, []uint32{3, ImageSize, ImageSize}, images)
	for _, f := range []struct {
		name string
		data []byte
	}{{"raw", file}, {"gzipped", gzipped(t, file)}} {
		runs, n, err := ParseImageRuns(bytes.NewReader(f.data))
		if want := slices.Concat(blankRuns, fullRuns, cornersRuns); err != nil || n != 3 || !bytes.Equal(runs, want) {
			t.Errorf("%s: %d images, %v, %v; want 3, %v", f.name, n, runs, err, want)
		}
	}
	// The checks are ParseImages': a short file, and a count the payload does not match.
	if _, _, err := ParseImageRuns(bytes.NewReader(file[:len(file)-1])); err == nil || !strings.Contains(err.Error(), "truncated: got 2351 bytes of data, want 2352 for 3 images") {
		t.Errorf("a short file: %v", err)
	}
	if _, _, err := ParseImageRuns(bytes.NewReader(append(file, 0))); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("a long file: %v", err)
	}
}

// TestImageRunsMNIST encodes the 60,000 real training images and reads them back, byte for
// byte, in under two fifths of the room.
func TestImageRunsMNIST(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	runs, n, err := ParseImageRuns(bytes.NewReader(mnisttest.ReadFile(t, TrainImagesFile)))
	if err != nil || n != 60_000 {
		t.Fatal(n, err)
	}
	if !bytes.Equal(decodeRuns(t, runs), train.Images) {
		t.Fatal("the decoded images differ from the encoded ones")
	}
	if ratio := float64(len(runs)) / float64(len(train.Images)); ratio > 0.4 {
		t.Errorf("the runs take %.1f%% of the pixels' room", 100*ratio)
	}
	t.Logf("%.1f MB for %.1f MB of pixels", float64(len(runs))/1e6, float64(len(train.Images))/1e6)
}

// TestLoadDatasetRuns: the real test set kept as runs gives the same images as LoadDataset's, by
// Gather, Image and Slice, and runs that do not hold their images whole are refused.
func TestLoadDatasetRuns(t *testing.T) {
	_, test := mnisttest.Sets(t)
	images, labels := mnisttest.ReadFile(t, TestImagesFile), mnisttest.ReadFile(t, TestLabelsFile)
	d, err := LoadDatasetRuns(bytes.NewReader(images), bytes.NewReader(labels))
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != test.Len() || !bytes.Equal(d.Labels, test.Labels) {
		t.Fatalf("%d images, labels equal %v; want %d", d.Len(), bytes.Equal(d.Labels, test.Labels), test.Len())
	}
	all := make([]int32, d.Len())
	for i := range all {
		all[i] = int32(len(all) - 1 - i) // backwards: each image found by its own index
	}
	got, want := make([]byte, len(test.Images)), make([]byte, len(test.Images))
	if err := d.Gather(all, got); err != nil {
		t.Fatal(err)
	}
	_ = test.Gather(all, want)
	if !bytes.Equal(got, want) {
		t.Error("Gather's images differ from LoadDataset's")
	}
	for _, i := range []int{0, 1, 4_999, 9_999} {
		if !bytes.Equal(d.Image(i), test.Image(i)) {
			t.Errorf("Image(%d) differs from LoadDataset's", i)
		}
	}
	if s := d.Slice(100, 200); s.Len() != 100 || !bytes.Equal(s.Image(5), test.Image(105)) {
		t.Errorf("Slice(100, 200): %d images, its image 5 not image 105", s.Len())
	}
	if d.Image(-1) != nil || d.Image(d.Len()) != nil {
		t.Error("an index out of range gives an image")
	}
	runs, n, err := ParseImageRuns(bytes.NewReader(images))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		runs []byte
		n    int
		want string
	}{
		{"one image short", runs, n + 1, "hold 10000 images, want 10001"},
		{"cut in an image", runs[:len(runs)-3], n, "runs end early"},
		{"a count past the image", append([]byte{200, 200}, runs...), n, "cover more than"},
	} {
		if _, err := NewRunsSource(c.runs, c.n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.want)
		}
	}
}
