package model

// Augmentation of a student's own digits for training (mydigits.go): each copy mixed into an
// epoch is the digit shifted, rotated and scaled a little, so that a handful of drawings teach
// the network a hand rather than those few images. The transform of every copy depends on the
// seed, the epoch and the copy's number alone, and is computed in integers, so that every worker
// of a team, in every browser, makes the same pixels.

import (
	"math"
	"math/rand/v2"

	"github.com/mnist-trainer/mnist/mnist"
)

// Bounds of the augmentation. MNIST centres each digit's centre of mass within a pixel or so, in
// a 20-pixel box: a shift of up to 2 pixels, a turn of up to 12 degrees and a size 10% either way
// keep a drawing an MNIST-like digit, and inside the 28x28 field but for the tips of its strokes.
const (
	augmentShift    = 2    // pixels, along each axis
	augmentRotation = 12   // degrees, either way
	augmentScale    = 0.10 // relative, either way
)

// fixed is a number in 16.16 fixed point: integer arithmetic gives the same bits everywhere.
type fixed = int64

// fixedOne is 1 in fixed point.
const fixedOne fixed = 1 << 16

// augmentation is one copy's transform: the digit is scaled by scale and turned by angle about the
// field's centre, then moved by (dx, dy).
type augmentation struct {
	angle    float64 // degrees
	scale    float64
	dx, dy   fixed
	cos, sin fixed // of angle
	invScale fixed // 1/scale
}

// newAugmentation draws the transform of copy number index in epoch, for a run of seed.
func newAugmentation(seed int64, epoch, index int) augmentation {
	rng := rand.New(rand.NewPCG(uint64(seed), mix64(uint64(epoch)<<32|uint64(uint32(index)))^0x6d79646967697473)) // "mydigits"
	// Every draw is a whole number of steps, and sin and cos are rounded to 16 bits: the transform
	// is then the same on every machine, whatever its last bits of math.Sin.
	angle := float64(rng.IntN(2*augmentRotation*8+1)-augmentRotation*8) / 8                               // steps of 1/8 degree
	scale := 1 + float64(rng.IntN(2*100+1)-100)/100*augmentScale                                          // steps of 0.1%
	shift := func() fixed { return fixed(rng.IntN(2*augmentShift*16+1)-augmentShift*16) * fixedOne / 16 } // steps of 1/16 pixel
	a := augmentation{angle: angle, scale: scale, dx: shift(), dy: shift()}
	rad := angle * math.Pi / 180
	a.cos = fixed(math.Round(math.Cos(rad) * float64(fixedOne)))
	a.sin = fixed(math.Round(math.Sin(rad) * float64(fixedOne)))
	a.invScale = fixed(math.Round(float64(fixedOne) / scale))
	return a
}

// mix64 scrambles x (SplitMix64's finaliser), so that neighbouring copies and epochs seed
// unrelated streams.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// augment writes into dst (mnist.ImageSize² bytes) the copy number index of src for epoch, in a run of
// seed: src shifted, turned and scaled by newAugmentation's draw.
func augment(dst, src []byte, seed int64, epoch, index int) {
	newAugmentation(seed, epoch, index).apply(dst, src)
}

// apply writes src transformed into dst. Each output pixel takes the source at its place mapped
// back by the inverse transform, interpolated between the four nearest pixels (bilinear), with
// background outside the field. The weights of the four add up to exactly 1, so every value stays
// in 0..255, and the identity transform copies src exactly.
func (a augmentation) apply(dst, src []byte) {
	const side = mnist.ImageSize
	const centre = fixed(side-1) * fixedOne / 2 // between pixels 13 and 14, in pixel-index coordinates
	at := func(x, y fixed) int64 {
		if x < 0 || y < 0 || x >= side || y >= side {
			return 0
		}
		return int64(src[y*side+x])
	}
	for y := range fixed(side) {
		for x := range fixed(side) {
			// Back from the output's place: undo the shift, the turn, then the scale.
			px, py := x*fixedOne-centre-a.dx, y*fixedOne-centre-a.dy
			rx := (a.cos*px + a.sin*py) >> 16
			ry := (-a.sin*px + a.cos*py) >> 16
			u := (rx*a.invScale)>>16 + centre
			v := (ry*a.invScale)>>16 + centre
			x0, y0 := u>>16, v>>16 // floors, also for negative coordinates
			fx, fy := u&(fixedOne-1), v&(fixedOne-1)
			sum := at(x0, y0)*(fixedOne-fx)*(fixedOne-fy) + at(x0+1, y0)*fx*(fixedOne-fy) +
				at(x0, y0+1)*(fixedOne-fx)*fy + at(x0+1, y0+1)*fx*fy
			dst[y*side+x] = byte((sum + 1<<31) >> 32) // weights sum to 2³², so at most 255
		}
	}
}
