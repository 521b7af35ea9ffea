package mnist

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
