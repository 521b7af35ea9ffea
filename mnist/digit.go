package mnist

// A drawing becomes an MNIST image here, next to the data set, and not in model: the steps are
// those that made MNIST's own images from NIST's scans, so they belong to what an MNIST image is.
// The network only ever sees 28x28 images, whether they come from the files or from a drawing.

import (
	"errors"
	"fmt"
	"math"
)

// ErrEmptyDigit is returned by CenterDigit for an image without ink: there is nothing to classify yet.
var ErrEmptyDigit = errors.New("no ink: draw a digit")

// digitBox is the side of the box MNIST fits each digit into before centring it in the 28x28 field.
const digitBox = 20

// CenterDigit turns a hand-drawn grey-scale image (width*height bytes, row-major, 0 = background,
// 255 = ink) into a 28x28 MNIST-style image, the way LeCun describes MNIST's preprocessing:
//
//   - crop to the bounding box of the ink;
//   - scale it, keeping its aspect ratio, so that its longer side is 20 pixels, averaging the
//     source pixels each target pixel covers (this anti-aliases, as MNIST's grey levels are);
//   - place it in a 28x28 field so that its centre of mass falls on pixel (14,14), as it does on
//     average in MNIST (in pixel-index coordinates).
//
// Two small departures, both so a student's drawing looks like the digits the network learnt from:
// the grey levels are stretched so the darkest pixel is 255 (a thin stroke scaled down would
// otherwise be faint), and a digit whose centre of mass is far off-centre is shifted only as far
// as keeps all of it inside the field.
//
// An image without ink gives ErrEmptyDigit.
func CenterDigit(gray []byte, width, height int) ([]byte, error) {
	if width <= 0 || height <= 0 || len(gray) != width*height {
		return nil, fmt.Errorf("center digit: %d bytes is not a %dx%d image", len(gray), width, height)
	}
	x0, y0, x1, y1 := width, height, -1, -1 // ink bounding box, inclusive
	for y := range height {
		for x, v := range gray[y*width : (y+1)*width] {
			if v > 0 {
				x0, x1 = min(x0, x), max(x1, x)
				y0, y1 = min(y0, y), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return nil, ErrEmptyDigit
	}
	w, h := x1-x0+1, y1-y0+1
	scale := float64(digitBox) / float64(max(w, h))
	nw := min(digitBox, max(1, int(math.Round(float64(w)*scale))))
	nh := min(digitBox, max(1, int(math.Round(float64(h)*scale))))

	crop := make([]float64, w*h)
	for y := range h {
		for x := range w {
			crop[y*w+x] = float64(gray[(y0+y)*width+x0+x])
		}
	}
	small := areaResize(crop, w, h, nw, nh)

	// Stretch to full ink and find the centre of mass.
	peak := 0.0
	for _, v := range small {
		peak = max(peak, v)
	}
	var mass, mx, my float64
	for i, v := range small {
		v *= 255 / peak
		small[i] = v
		mass += v
		mx += v * float64(i%nw)
		my += v * float64(i/nw)
	}
	left := min(max(int(math.Round(ImageSize/2-mx/mass)), 0), ImageSize-nw)
	top := min(max(int(math.Round(ImageSize/2-my/mass)), 0), ImageSize-nh)

	out := make([]byte, ImageSize*ImageSize)
	for y := range nh {
		for x := range nw {
			out[(top+y)*ImageSize+left+x] = uint8(math.Round(min(small[y*nw+x], 255)))
		}
	}
	return out, nil
}

// areaResize scales a w x h image to nw x nh: each target pixel is the mean of the source area it
// covers, partly covered source pixels counting in proportion.
func areaResize(src []float64, w, h, nw, nh int) []float64 {
	xs, ys := areaSpans(w, nw), areaSpans(h, nh)
	dst := make([]float64, nw*nh)
	for j, sy := range ys {
		for i, sx := range xs {
			var sum float64
			for dy, wy := range sy.weights {
				row := src[(sy.first+dy)*w+sx.first:]
				for dx, wx := range sx.weights {
					sum += wy * wx * row[dx]
				}
			}
			dst[j*nw+i] = sum
		}
	}
	return dst
}

// span lists the source samples one target sample covers: weights[k] is the share of sample first+k.
type span struct {
	first   int
	weights []float64
}

// areaSpans maps an axis of n samples onto m samples; each span's weights sum to 1.
func areaSpans(n, m int) []span {
	ratio := float64(n) / float64(m) // source samples per target sample
	spans := make([]span, m)
	for j := range spans {
		a, b := float64(j)*ratio, float64(j+1)*ratio
		s := span{first: int(a)}
		for i := s.first; i < n && float64(i) < b; i++ {
			s.weights = append(s.weights, (min(b, float64(i+1))-max(a, float64(i)))/ratio)
		}
		spans[j] = s
	}
	return spans
}
