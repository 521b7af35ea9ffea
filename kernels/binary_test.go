//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sameFloat reports whether a and b are the same value bit for bit, any NaN matching any NaN.
func sameFloat[T float32 | float64](a, b T) bool {
	if a != a && b != b {
		return true
	}
	if a != b {
		return false
	}
	return math.Signbit(float64(a)) == math.Signbit(float64(b))
}

// oddFloats returns n float32 values, one in six of them a signed zero, a subnormal, an
// infinity or NaN.
func oddFloats(rng *rand.Rand, n int) []float32 {
	odd := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -3e-39, float32(math.Inf(1)),
		float32(math.Inf(-1)), float32(math.NaN())}
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(6) == 0 {
			v[i] = odd[rng.IntN(len(odd))]
		} else {
			v[i] = 4*rng.Float32() - 2
		}
	}
	return v
}

// TestBinary proves that Binary, and binaryScalar with the scalar on either side, compute each
// op exactly as scalar Go does, on every length from 0 to nine vectors (so every number of their
// four-vector steps, single vectors and tail elements), and write nothing past len(dst).
func TestBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, op := range []BinaryOp{Add, Sub, Mul, Div} {
		for n := range 9*Lanes() + 1 {
			a, b := oddFloats(rng, n), oddFloats(rng, n)
			s := oddFloats(rng, 1)[0]
			for _, c := range []struct {
				name string
				run  func(dst []float32)
				want func(i int) float32
			}{
				{"Binary", func(dst []float32) { Binary(op, dst, a, b) }, func(i int) float32 { return scalarOp(op, a[i], b[i]) }},
				{"binaryScalar right", func(dst []float32) { binaryScalar(op, dst, a, s, false) }, func(i int) float32 { return scalarOp(op, a[i], s) }},
				{"binaryScalar left", func(dst []float32) { binaryScalar(op, dst, a, s, true) }, func(i int) float32 { return scalarOp(op, s, a[i]) }},
			} {
				dst := make([]float32, n+1)
				dst[n] = 42
				c.run(dst[:n])
				if dst[n] != 42 {
					t.Fatalf("%s op%d n%d: wrote past len(dst)", c.name, op, n)
				}
				for i := range n {
					if want := c.want(i); !sameFloat(dst[i], want) {
						t.Fatalf("%s op%d n%d: [%d] = %v, want %v", c.name, op, n, i, dst[i], want)
					}
				}
			}
		}
	}
}

// randBroadcast returns random output dimensions of rank 1 to 4 (sizes around the vector
// width among them) and two operands' dimensions that broadcast to them.
func randBroadcast(rng *rand.Rand) (out, a, b []int) {
	l := Lanes()
	sizes := []int{1, 2, 3, 5, l - 1, l + 1, 2*l + 3}
	rank := 1 + rng.IntN(4)
	out, a, b = make([]int, rank), make([]int, rank), make([]int, rank)
	for i := range out {
		out[i] = max(1, sizes[rng.IntN(len(sizes))])
		a[i], b[i] = out[i], out[i]
		switch rng.IntN(4) {
		case 0:
			a[i] = 1
		case 1:
			b[i] = 1
		}
	}
	if rng.IntN(8) == 0 { // a scalar operand
		for i := range a {
			a[i] = 1
		}
	}
	return out, a, b
}

// broadcastIndex returns the flat index into an operand of dimensions dims of the output
// element at position pos (dimensions of 1 repeat).
func broadcastIndex(pos, dims []int) int {
	idx := 0
	for i, d := range dims {
		idx = idx*d + pos[i]%d
	}
	return idx
}

// forEachPos calls fn with every position of dims, in row-major order.
func forEachPos(dims []int, fn func(pos []int)) {
	pos := make([]int, len(dims))
	for n := size(dims); n > 0; n-- {
		fn(pos)
		for i := len(pos) - 1; i >= 0; i-- {
			if pos[i]++; pos[i] < dims[i] {
				break
			}
			pos[i] = 0
		}
	}
}

// size is the number of elements of dimensions dims.
func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// TestBroadcastBinary proves that BroadcastBinary matches a per-element reference bit for bit
// on random broadcasts of ranks 1 to 4, with either operand or both broadcast on any axes, in
// both orders.
func TestBroadcastBinary(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		rng := rand.New(rand.NewPCG(23, 24))
		for iter := range 300 {
			out, aDims, bDims := randBroadcast(rng)
			if iter%2 == 1 {
				aDims, bDims = bDims, aDims
			}
			op := BinaryOp(iter % 4)
			a, b := oddFloats(rng, size(aDims)), oddFloats(rng, size(bDims))
			dst := make([]float32, size(out))
			name := fmt.Sprintf("op%d out%v a%v b%v", op, out, aDims, bDims)
			if !BroadcastBinary(op, dst, a, b, out, aDims, bDims, workers) {
				t.Fatalf("%s: not ok", name)
			}
			i := 0
			forEachPos(out, func(pos []int) {
				x, y := a[broadcastIndex(pos, aDims)], b[broadcastIndex(pos, bDims)]
				if want := scalarOp(op, x, y); !sameFloat(dst[i], want) {
					t.Fatalf("%s: at %v %v op %v = %v, want %v", name, pos, x, y, dst[i], want)
				}
				i++
			})
		}
	})
}

// TestBroadcastRows holds binaryRows, the path for rows against one vector, to scalar Go on
// every op, with the vector on either side, rows that do not fill a group of repeated vectors,
// rows longer than the repeated copy, and the native splits; and BroadcastCopy's path for one
// vector copied to every row.
func TestBroadcastRows(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, n := range []int{2, 3, Lanes() + 1, 32, 1000, repFloats + 3} {
			group := max(1, repFloats/n)
			for _, rows := range []int{2, group - 1, group + 1, 3*group + 5} {
				rows = max(rows, 2)
				vec := oddFloats(rng, n)
				copied := make([]float32, rows*n+1)
				copied[rows*n] = 42
				if !BroadcastCopy(copied[:rows*n], vec, []int{rows, n}, []int{1, n}, workers) {
					t.Fatalf("copy [1 %d] to [%d %d]: not ok", n, rows, n)
				}
				for i, v := range copied[:rows*n] {
					if !sameFloat(v, vec[i%n]) {
						t.Fatalf("copy [1 %d] to [%d %d]: element %d is %v, want %v", n, rows, n, i, v, vec[i%n])
					}
				}
				if copied[rows*n] != 42 {
					t.Fatalf("copy [1 %d] to [%d %d]: wrote past the output", n, rows, n)
				}
				for op := range BinaryOp(4) {
					for _, left := range []bool{false, true} {
						out, vecDims := []int{rows, n}, []int{1, n}
						aDims, bDims := out, vecDims
						if left {
							aDims, bDims = vecDims, out
						}
						a, b := oddFloats(rng, size(aDims)), oddFloats(rng, size(bDims))
						if p, _ := planBroadcast(out, aDims, bDims); !p.rowBroadcast() {
							t.Fatalf("a%v b%v: not planned as rows", aDims, bDims)
						}
						dst := make([]float32, rows*n+1)
						dst[rows*n] = 42
						if !BroadcastBinary(op, dst[:rows*n], a, b, out, aDims, bDims, workers) {
							t.Fatalf("a%v b%v: not ok", aDims, bDims)
						}
						for r := range rows {
							for j := range n {
								x, y := a[broadcastIndex([]int{r, j}, aDims)], b[broadcastIndex([]int{r, j}, bDims)]
								if want := scalarOp(op, x, y); !sameFloat(dst[r*n+j], want) {
									t.Fatalf("op%d a%v b%v: at [%d %d] %v op %v = %v, want %v", op, aDims, bDims, r, j, x, y, dst[r*n+j], want)
								}
							}
						}
						if dst[rows*n] != 42 {
							t.Fatalf("op%d a%v b%v: wrote past the output", op, aDims, bDims)
						}
					}
				}
			}
		}
	})
}

// TestBroadcastCopy proves that BroadcastCopy matches a per-element reference bit for bit in
// float32 and float64 on random broadcasts, with runs of 0 and -0 among the values.
func TestBroadcastCopy(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		rng := rand.New(rand.NewPCG(25, 26))
		for iter := range 200 {
			out, src, _ := randBroadcast(rng)
			v32 := oddFloats(rng, size(src))
			v64 := make([]float64, len(v32))
			for i, v := range v32 {
				v64[i] = float64(v)
			}
			d32, d64 := make([]float32, size(out)), make([]float64, size(out))
			name := fmt.Sprintf("#%d out%v src%v", iter, out, src)
			if !BroadcastCopy(d32, v32, out, src, workers) || !BroadcastCopy(d64, v64, out, src, workers) {
				t.Fatalf("%s: not ok", name)
			}
			i := 0
			forEachPos(out, func(pos []int) {
				j := broadcastIndex(pos, src)
				if !sameFloat(d32[i], v32[j]) || !sameFloat(d64[i], v64[j]) {
					t.Fatalf("%s: at %v got %v and %v, want %v", name, pos, d32[i], d64[i], v32[j])
				}
				i++
			})
		}
	})
}

// TestBroadcastFill proves that BroadcastCopy's runs of one value, long enough for wasm's
// assembly (fill32Blocks) and with a tail after its blocks, keep each value's bits: -0, a NaN with
// a payload, and an ordinary float, in float32 and float64.
func TestBroadcastFill(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		vals := []float32{float32(math.Copysign(0, -1)), math.Float32frombits(0x7fc0_1234), 1.5, 0}
		for _, n := range []int{1, 15, 16, 17, 53, 64, 1000} {
			out, src := []int{len(vals), n}, []int{len(vals), 1}
			d32, d64 := make([]float32, len(vals)*n), make([]float64, len(vals)*n)
			v64 := make([]float64, len(vals))
			for i, v := range vals {
				v64[i] = float64(v)
			}
			if !BroadcastCopy(d32, vals, out, src, workers) || !BroadcastCopy(d64, v64, out, src, workers) {
				t.Fatalf("n %d: not ok", n)
			}
			for i := range d32 {
				want := vals[i/n]
				if math.Float32bits(d32[i]) != math.Float32bits(want) || math.Float64bits(d64[i]) != math.Float64bits(v64[i/n]) {
					t.Fatalf("n %d: [%d] = %v (%#x) and %v, want %v (%#x)", n, i, d32[i], math.Float32bits(d32[i]), d64[i], want, math.Float32bits(want))
				}
			}
		}
	})
}

// TestBroadcastRejects proves that shapes that do not broadcast, or an empty output, leave dst
// untouched: a rank that differs, a dimension that is neither 1 nor the output's.
func TestBroadcastRejects(t *testing.T) {
	dst := []float32{7, 7, 7, 7, 7, 7}
	src := []float32{1, 2, 3}
	for _, c := range []struct {
		out, a, b []int
		ok        bool
	}{
		{[]int{2, 3}, []int{3}, []int{2, 3}, false},
		{[]int{2, 3}, []int{2, 2}, []int{2, 3}, false},
		{[]int{6}, []int{3}, []int{6}, false},
		{[]int{0, 3}, []int{0, 1}, []int{0, 3}, true}, // empty: nothing to write
	} {
		ok := BroadcastBinary(Add, dst[:size(c.out)], src, src, c.out, c.a, c.b, 2)
		if ok != c.ok || !slices.Equal(dst, []float32{7, 7, 7, 7, 7, 7}) {
			t.Errorf("out%v a%v b%v: ok = %v, dst %v", c.out, c.a, c.b, ok, dst)
		}
		ok = BroadcastCopy(dst[:size(c.out)], src, c.out, c.a, 2)
		if ok != c.ok || !slices.Equal(dst, []float32{7, 7, 7, 7, 7, 7}) {
			t.Errorf("copy out%v src%v: ok = %v, dst %v", c.out, c.a, ok, dst)
		}
	}
}

// BenchmarkBroadcastChannels measures the normalisation's broadcasts: an activation [rows, C]
// op a per-channel vector [1, C], and the vector on the left, at the network's channel counts.
func BenchmarkBroadcastChannels(b *testing.B) {
	for _, s := range []struct{ rows, c int }{{6272, 32}, {6272, 64}, {1568, 128}} {
		n := s.rows * s.c
		x, v, dst := make([]float32, n), make([]float32, s.c), make([]float32, n)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		for i := range v {
			v[i] = float32(i) + 0.5
		}
		out, vDims := []int{s.rows, s.c}, []int{1, s.c}
		for _, left := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d_vectorLeft%v", s.rows, s.c, left), func(b *testing.B) {
				for b.Loop() {
					if left {
						BroadcastBinary(Sub, dst, v, x, out, vDims, out, 1)
					} else {
						BroadcastBinary(Mul, dst, x, v, out, out, vDims, 1)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}
