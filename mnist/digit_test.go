package mnist_test

import (
	"errors"
	"math"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	. "github.com/mnist-trainer/mnist/mnist"
)

// placeScaled draws a 28x28 image into a width x height canvas at (left, top), scaled by factor
// (each canvas pixel takes the source pixel it falls in): a real digit as a student might draw
// it, bigger and off-centre.
func placeScaled(img []byte, factor float64, width, height, left, top int) []byte {
	canvas := make([]byte, width*height)
	side := int(math.Ceil(ImageSize * factor))
	for y := range min(side, height-top) {
		for x := range min(side, width-left) {
			sx, sy := int(float64(x)/factor), int(float64(y)/factor)
			canvas[(top+y)*width+left+x] = img[sy*ImageSize+sx]
		}
	}
	return canvas
}

// centreOfMass returns the ink-weighted mean pixel index of a 28x28 image.
func centreOfMass(img []byte) (x, y float64) {
	var m float64
	for i, v := range img {
		m += float64(v)
		x += float64(v) * float64(i%ImageSize)
		y += float64(v) * float64(i/ImageSize)
	}
	return x / m, y / m
}

// bestCorrelation returns the highest Pearson correlation of a and b over shifts of b by up to
// one pixel each way: centring rounds to whole pixels, so the result may sit one pixel off.
func bestCorrelation(a, b []byte) float64 {
	best := -1.0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			var sa, sb, saa, sbb, sab float64
			for y := range ImageSize {
				for x := range ImageSize {
					va := float64(a[y*ImageSize+x])
					var vb float64
					if bx, by := x+dx, y+dy; bx >= 0 && by >= 0 && bx < ImageSize && by < ImageSize {
						vb = float64(b[by*ImageSize+bx])
					}
					sa, sb, saa, sbb, sab = sa+va, sb+vb, saa+va*va, sbb+vb*vb, sab+va*vb
				}
			}
			n := float64(ImageSize * ImageSize)
			r := (sab - sa*sb/n) / math.Sqrt((saa-sa*sa/n)*(sbb-sb*sb/n))
			best = max(best, r)
		}
	}
	return best
}

// TestCenterDigitRecentresRealDigits draws real MNIST test digits bigger and off-centre on a
// canvas, as a student would, and checks that CenterDigit gives back the MNIST image.
func TestCenterDigitRecentresRealDigits(t *testing.T) {
	_, test := mnisttest.Sets(t)
	for _, c := range []struct {
		factor      float64
		left, top   int
		wantCorr    float64
		description string
	}{
		{3, 17, 9, 0.99, "3x, top left"},
		{2.5, 120, 60, 0.95, "2.5x, bottom right"},
		{7.3, 0, 0, 0.97, "7.3x, filling the canvas"},
	} {
		worst := 1.0
		for i := range 50 {
			orig := test.Image(i)
			canvas := placeScaled(orig, c.factor, 210, 210, c.left, c.top)
			got, err := CenterDigit(canvas, 210, 210)
			if err != nil {
				t.Fatalf("%s, digit %d: %v", c.description, i, err)
			}
			if x, y := centreOfMass(got); math.Abs(x-14) > 0.5 || math.Abs(y-14) > 0.5 {
				t.Errorf("%s, digit %d: centre of mass at (%.2f, %.2f), want (14, 14) within half a pixel", c.description, i, x, y)
			}
			r := bestCorrelation(orig, got)
			worst = min(worst, r)
			if r < c.wantCorr {
				t.Errorf("%s, digit %d (label %d): correlation with the original %.3f, want at least %.2f",
					c.description, i, test.Labels[i], r, c.wantCorr)
			}
		}
		t.Logf("%s: worst correlation with the original over 50 digits %.3f", c.description, worst)
	}
}

func TestCenterDigitGeometry(t *testing.T) {
	// A 30x60 solid bar in the corner of a 300x200 canvas: it becomes 10x20, centred.
	const w, h = 300, 200
	canvas := make([]byte, w*h)
	for y := 5; y < 65; y++ {
		for x := 250; x < 280; x++ {
			canvas[y*w+x] = 255
		}
	}
	got, err := CenterDigit(canvas, w, h)
	if err != nil {
		t.Fatal(err)
	}
	x0, y0, x1, y1 := ImageSize, ImageSize, -1, -1
	for i, v := range got {
		if v > 0 {
			x, y := i%ImageSize, i/ImageSize
			x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
		}
		if v != 0 && v != 255 {
			t.Fatalf("pixel %d is %d; a solid bar scaled by exactly 1/3 should stay solid", i, v)
		}
	}
	if bw, bh := x1-x0+1, y1-y0+1; bw != 10 || bh != 20 {
		t.Errorf("box is %dx%d, want 10x20", bw, bh)
	}
	if x, y := centreOfMass(got); math.Abs(x-14) > 0.5 || math.Abs(y-14) > 0.5 {
		t.Errorf("centre of mass (%.2f, %.2f), want (14, 14) within half a pixel", x, y)
	}

	// A faint single pixel still becomes a full-ink blob at the centre.
	dot := make([]byte, 100)
	dot[55] = 10
	got, err = CenterDigit(dot, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got[14*ImageSize+14] != 255 {
		t.Errorf("a single dot: pixel (14,14) is %d, want 255", got[14*ImageSize+14])
	}
}

func TestCenterDigitRejects(t *testing.T) {
	if _, err := CenterDigit(make([]byte, 280*280), 280, 280); !errors.Is(err, ErrEmptyDigit) {
		t.Errorf("empty canvas: got %v, want ErrEmptyDigit", err)
	}
	for _, c := range []struct {
		n, w, h int
	}{{10, 3, 3}, {0, 0, 0}, {4, -2, -2}} {
		if _, err := CenterDigit(make([]byte, c.n), c.w, c.h); err == nil || errors.Is(err, ErrEmptyDigit) {
			t.Errorf("%d bytes as %dx%d: got %v, want a size error", c.n, c.w, c.h, err)
		}
	}
}
