package model

import (
	"bytes"
	"math"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

// centreOfInk returns the centre of mass of an image's ink, in pixel coordinates, and its total.
func centreOfInk(img []byte) (x, y, ink float64) {
	for i, v := range img {
		w := float64(v)
		x += w * float64(i%mnist.ImageSize)
		y += w * float64(i/mnist.ImageSize)
		ink += w
	}
	return x / ink, y / ink, ink
}

// TestAugmentDeterministic: a copy's pixels depend on the seed, the epoch and its number alone,
// and the copies differ from each other.
func TestAugmentDeterministic(t *testing.T) {
	_, test := mnisttest.Sets(t)
	src := test.Image(0)
	a, b := make([]byte, len(src)), make([]byte, len(src))
	augment(a, src, 7, 2, 41)
	augment(b, src, 7, 2, 41)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed, epoch and copy gave different pixels")
	}
	same := 0
	for _, c := range []struct {
		seed         int64
		epoch, index int
	}{{8, 2, 41}, {7, 3, 41}, {7, 2, 42}, {7, 2, 41 + 1<<20}} {
		augment(b, src, c.seed, c.epoch, c.index)
		if bytes.Equal(a, b) {
			same++
			t.Logf("seed %d, epoch %d, copy %d gives the pixels of seed 7, epoch 2, copy 41", c.seed, c.epoch, c.index)
		}
	}
	if same > 0 {
		t.Errorf("%d of 4 other copies have the same pixels", same)
	}
}

// TestAugmentInRange draws many transforms and checks their bounds, and what they do to real
// digits: the ink moves by about the shift, and about as much of it stays in the field.
func TestAugmentInRange(t *testing.T) {
	_, test := mnisttest.Sets(t)
	dst := make([]byte, mnist.ImageSize*mnist.ImageSize)
	var maxAngle, maxScale, maxShift float64
	for i := range 2000 {
		a := newAugmentation(1, 1+i%3, i)
		shiftX, shiftY := float64(a.dx)/float64(fixedOne), float64(a.dy)/float64(fixedOne)
		if math.Abs(a.angle) > augmentRotation || math.Abs(a.scale-1) > augmentScale+1e-12 ||
			math.Abs(shiftX) > augmentShift || math.Abs(shiftY) > augmentShift {
			t.Fatalf("copy %d: angle %g°, scale %g, shift (%g, %g): out of bounds", i, a.angle, a.scale, shiftX, shiftY)
		}
		maxAngle, maxScale = max(maxAngle, math.Abs(a.angle)), max(maxScale, math.Abs(a.scale-1))
		maxShift = max(maxShift, math.Abs(shiftX), math.Abs(shiftY))

		src := test.Image(i % 100)
		a.apply(dst, src)
		x0, y0, ink0 := centreOfInk(src)
		x1, y1, ink1 := centreOfInk(dst)
		// A turn and a scale about the field's centre move a digit's centre (within a pixel or two
		// of it) by a fraction of a pixel; the shift moves it by itself. (Unless ink leaves the
		// field: a digit that fills its 20-pixel box may lose a stroke's tip at the edge.)
		if moved := math.Hypot(x1-x0-shiftX, y1-y0-shiftY); moved > 0.8 && inField(src, a) {
			t.Errorf("copy %d of digit %d: its ink's centre moved (%.2f, %.2f) for a shift of (%.2f, %.2f)",
				i, i%100, x1-x0, y1-y0, shiftX, shiftY)
		}
		// Area grows with the scale squared (±21%); interpolation blurs a little.
		if r := ink1 / ink0; r < 0.72 || r > 1.3 {
			t.Errorf("copy %d of digit %d keeps %.2f of the ink (scale %.3f)", i, i%100, r, a.scale)
		}
	}
	t.Logf("largest turn %.3g°, scale ±%.3g, shift %.3g pixels", maxAngle, maxScale, maxShift)
	// The draws cover their ranges.
	if maxAngle < 0.9*augmentRotation || maxScale < 0.9*augmentScale || maxShift < 0.9*augmentShift {
		t.Errorf("the draws keep well inside their bounds: %.3g°, ±%.3g, %.3g px", maxAngle, maxScale, maxShift)
	}
}

// TestAugmentTransform checks the sampler against transforms whose result is known: the identity
// copies, a whole-pixel shift moves, a quarter-pixel shift averages neighbours.
func TestAugmentTransform(t *testing.T) {
	_, test := mnisttest.Sets(t)
	src := test.Image(3)
	dst := make([]byte, len(src))
	identity := augmentation{cos: fixedOne, invScale: fixedOne}
	identity.apply(dst, src)
	if !bytes.Equal(dst, src) {
		t.Fatal("the identity transform changed the image")
	}
	right := identity
	right.dx, right.dy = fixedOne, -2*fixedOne // one pixel right, two up
	right.apply(dst, src)
	for y := range mnist.ImageSize {
		for x := range mnist.ImageSize {
			want := byte(0)
			if sx, sy := x-1, y+2; sx >= 0 && sy < mnist.ImageSize {
				want = src[sy*mnist.ImageSize+sx]
			}
			if got := dst[y*mnist.ImageSize+x]; got != want {
				t.Fatalf("shifted: pixel (%d, %d) is %d, want %d", x, y, got, want)
			}
		}
	}
	quarter := identity
	quarter.dx = fixedOne / 4
	quarter.apply(dst, src)
	for i := 1; i < len(src); i++ {
		if i%mnist.ImageSize == 0 {
			continue
		}
		want := (3*float64(src[i]) + float64(src[i-1])) / 4
		if got := float64(dst[i]); math.Abs(got-want) > 0.5 {
			t.Fatalf("a quarter-pixel shift: pixel %d is %v, want %v", i, got, want)
		}
	}
	// A half turn of a full field about its centre gives the field reversed.
	full := bytes.Repeat([]byte{200}, len(src))
	half := augmentation{cos: -fixedOne, invScale: fixedOne}
	half.apply(dst, full)
	if !bytes.Equal(dst, full) {
		t.Error("a half turn of a uniform field changed it: the centre of the turn is off")
	}
}

// inField says whether every pixel of ink in img stays inside the field under a's transform.
func inField(img []byte, a augmentation) bool {
	const c = (mnist.ImageSize - 1) / 2.0
	rad := a.angle * math.Pi / 180
	for i, v := range img {
		if v == 0 {
			continue
		}
		x, y := float64(i%mnist.ImageSize)-c, float64(i/mnist.ImageSize)-c
		fx := c + float64(a.dx)/float64(fixedOne) + a.scale*(math.Cos(rad)*x-math.Sin(rad)*y)
		fy := c + float64(a.dy)/float64(fixedOne) + a.scale*(math.Sin(rad)*x+math.Cos(rad)*y)
		if fx < 0 || fy < 0 || fx > mnist.ImageSize-1 || fy > mnist.ImageSize-1 {
			return false
		}
	}
	return true
}
