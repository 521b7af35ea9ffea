package mnist

import "fmt"

// appendRuns appends img, ImageSize×ImageSize bytes, to out as runs: the compact form in which the
// page keeps the training images for all its workers (ParseImageRuns writes it; web/trainset.js,
// TrainingImages, reads it). An image is a series of tokens, each a count of background (zero)
// pixels, then a count n, then the n non-zero pixels that follow them. A token holds at most 255 of
// either, so a long background is a few tokens with no pixels, and an image ends where its tokens
// have covered its pixels. About four in five of an MNIST image's pixels are background: the 47 MB
// of the training set take 12.1 MB.
//
// The worker that unpacks the file encodes them, so that the page never holds the 47 MB of pixels:
// a buffer that size lingered in its JavaScript heap until a collection that came late, and
// counted in the tab's peak.
func appendRuns(out, img []byte) []byte {
	for i := 0; i < len(img); {
		zeros := 0
		for i < len(img) && img[i] == 0 && zeros < 255 {
			i++
			zeros++
		}
		from := i
		for i < len(img) && img[i] != 0 && i-from < 255 {
			i++
		}
		out = append(out, byte(zeros), byte(i-from))
		out = append(out, img[from:i]...)
	}
	return out
}

// runsSource is an ImageSource over images kept as runs (appendRuns): the pixels of a worker's
// test images take a quarter of their room so, and Images decodes only what a batch asks for.
type runsSource struct {
	runs   []byte
	starts []int32 // where each image's tokens start in runs
}

// newRunsSource indexes runs, which must hold exactly n images.
func newRunsSource(runs []byte, n int) (*runsSource, error) {
	const size = ImageSize * ImageSize
	starts := make([]int32, 0, n)
	for i := 0; i < len(runs); {
		starts = append(starts, int32(i))
		for covered := 0; covered < size; {
			if i+2 > len(runs) || i+2+int(runs[i+1]) > len(runs) {
				return nil, fmt.Errorf("mnist: image %d's runs end early", len(starts)-1)
			}
			covered += int(runs[i]) + int(runs[i+1])
			i += 2 + int(runs[i+1])
			if covered > size {
				return nil, fmt.Errorf("mnist: image %d's runs cover more than its %d pixels", len(starts)-1, size)
			}
		}
	}
	if len(starts) != n {
		return nil, fmt.Errorf("mnist: the runs hold %d images, want %d", len(starts), n)
	}
	return &runsSource{runs: runs, starts: starts}, nil
}

// Images decodes the images at indices into dst.
func (s *runsSource) Images(indices []int32, dst []byte) error {
	const size = ImageSize * ImageSize
	for k, idx := range indices {
		if idx < 0 || int(idx) >= len(s.starts) {
			return fmt.Errorf("mnist: image %d is not one of the %d", idx, len(s.starts))
		}
		out := dst[k*size : (k+1)*size]
		for i, o := int(s.starts[idx]), 0; o < size; {
			zeros, n := int(s.runs[i]), int(s.runs[i+1])
			clear(out[o : o+zeros])
			o += zeros
			copy(out[o:o+n], s.runs[i+2:i+2+n])
			o += n
			i += 2 + n
		}
	}
	return nil
}

// Prefetch does nothing: the runs are here.
func (s *runsSource) Prefetch([]int32) {}
