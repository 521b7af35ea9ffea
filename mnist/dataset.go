// Package mnist is the MNIST data set: the IDX files it comes in (ParseImages, ParseLabels,
// LoadDataset), the four canonical files and their checksums (KnownFiles, VerifyFile), the
// parsed set (Dataset, or RemoteDataset when another party holds the pixels), and the
// preprocessing that turns a drawing into an image of the same kind (CenterDigit).
//
// It handles bytes only, never files, so it builds for GOOS=js GOARCH=wasm as well as natively;
// internal/mnistdir reads the files from disk for native tools and tests.
package mnist

const (
	// NumClasses is the number of MNIST classes, the digits 0..9.
	NumClasses = 10
	// ImageSize is the width and height of an MNIST image in pixels; the
	// parser rejects any other size so the model can rely on it.
	ImageSize = 28
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
	// Prefetch says that later Images calls will ask for indices, in one
	// call or in several that take consecutive pieces of them from the
	// first, so that a source that fetches from elsewhere can start now,
	// and fetch several batches at once. It may do nothing.
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
// (no copy), or for a RemoteDataset a copy its ImageSource wrote; nil when i
// is out of range or the source fails. The view's capacity is capped so
// appending to it cannot overwrite the next image.
func (d *Dataset) Image(i int) []byte {
	if i < 0 || i >= d.Len() {
		return nil
	}
	if d.remote != nil {
		img := make([]byte, d.Rows*d.Cols)
		if d.Gather([]int32{int32(i)}, img) != nil {
			return nil
		}
		return img
	}
	sz := d.Rows * d.Cols
	return d.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Gather writes the images at indices (of d, each in 0..Len()-1) into dst, in that order:
// len(indices)*Rows*Cols bytes. A Dataset of its own copies them and never fails; a
// RemoteDataset asks its ImageSource, and returns the source's error.
func (d *Dataset) Gather(indices []int32, dst []byte) error {
	if d.remote != nil {
		return d.remote.Images(d.shift(indices), dst)
	}
	sz := d.Rows * d.Cols
	for i, idx := range indices {
		copy(dst[i*sz:(i+1)*sz], d.Images[int(idx)*sz:(int(idx)+1)*sz])
	}
	return nil
}

// Prefetch says that Gathers of indices (of d) come next, in one or in consecutive pieces of them
// (ImageSource.Prefetch), so that the ImageSource of a RemoteDataset can start fetching them now.
// It does nothing for a Dataset of its own or for no indices.
func (d *Dataset) Prefetch(indices []int32) {
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
