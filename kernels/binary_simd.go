//go:build goexperiment.simd

package kernels

// f32-vbinary: element-wise Add, Sub, Mul and Div with numpy-style broadcasting, one vector of
// lanes at a time. A broadcast is planned once per call (axes where both operands behave alike
// are merged), so the loops below see contiguous runs: both operands running, or one of them a
// scalar for the run. The ops round exactly as scalar Go does (no fused multiply-add here), so
// results are bit-identical to simplego's own.

import (
	"math"
	"simd"
	"unsafe"
)

// BinaryOp is an element-wise float32 operation.
type BinaryOp uint8

// The element-wise operations the kernels cover.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
)

// Binary sets dst[i] = a[i] op b[i]; the three have equal lengths.
//
// Its loops, and binaryScalar's, take four vectors an iteration: Go's wasm code goes back to a
// loop's head through the function's resumption dispatch (a br_table), which cost as much as a
// vector's load, op and store (an Add of 512 K floats: 366 µs one vector an iteration, 205 µs
// four, in Node).
func Binary(op BinaryOp, dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	l := Lanes()
	i := binaryBlocks(op, dst, a, b) // in wasm, the blocks of 16 in assembly
	switch op {
	case Add:
		for ; i+4*l <= n; i += 4 * l {
			a4, b4, d4 := a[i:i+4*l], b[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Add(simd.LoadFloat32s(b4)).Store(d4)
			simd.LoadFloat32s(a4[l:]).Add(simd.LoadFloat32s(b4[l:])).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Add(simd.LoadFloat32s(b4[2*l:])).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Add(simd.LoadFloat32s(b4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Add(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] + b[i]
		}
	case Sub:
		for ; i+4*l <= n; i += 4 * l {
			a4, b4, d4 := a[i:i+4*l], b[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Sub(simd.LoadFloat32s(b4)).Store(d4)
			simd.LoadFloat32s(a4[l:]).Sub(simd.LoadFloat32s(b4[l:])).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Sub(simd.LoadFloat32s(b4[2*l:])).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Sub(simd.LoadFloat32s(b4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Sub(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] - b[i]
		}
	case Mul:
		for ; i+4*l <= n; i += 4 * l {
			a4, b4, d4 := a[i:i+4*l], b[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Mul(simd.LoadFloat32s(b4)).Store(d4)
			simd.LoadFloat32s(a4[l:]).Mul(simd.LoadFloat32s(b4[l:])).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Mul(simd.LoadFloat32s(b4[2*l:])).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Mul(simd.LoadFloat32s(b4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Mul(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] * b[i]
		}
	case Div:
		for ; i+4*l <= n; i += 4 * l {
			a4, b4, d4 := a[i:i+4*l], b[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Div(simd.LoadFloat32s(b4)).Store(d4)
			simd.LoadFloat32s(a4[l:]).Div(simd.LoadFloat32s(b4[l:])).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Div(simd.LoadFloat32s(b4[2*l:])).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Div(simd.LoadFloat32s(b4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Div(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] / b[i]
		}
	}
}

// binaryScalar sets dst[i] = a[i] op s, or s op a[i] if scalarLeft.
func binaryScalar(op BinaryOp, dst, a []float32, s float32, scalarLeft bool) {
	n := len(dst)
	a = a[:n]
	l := Lanes()
	v := simd.BroadcastFloat32s(s)
	i := 0
	switch {
	case op == Add:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Add(v).Store(d4)
			simd.LoadFloat32s(a4[l:]).Add(v).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Add(v).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Add(v).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Add(v).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] + s
		}
	case op == Mul:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Mul(v).Store(d4)
			simd.LoadFloat32s(a4[l:]).Mul(v).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Mul(v).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Mul(v).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Mul(v).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] * s
		}
	case op == Sub && !scalarLeft:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Sub(v).Store(d4)
			simd.LoadFloat32s(a4[l:]).Sub(v).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Sub(v).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Sub(v).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Sub(v).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] - s
		}
	case op == Sub:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			v.Sub(simd.LoadFloat32s(a4)).Store(d4)
			v.Sub(simd.LoadFloat32s(a4[l:])).Store(d4[l:])
			v.Sub(simd.LoadFloat32s(a4[2*l:])).Store(d4[2*l:])
			v.Sub(simd.LoadFloat32s(a4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			v.Sub(simd.LoadFloat32s(a[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = s - a[i]
		}
	case op == Div && !scalarLeft:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			simd.LoadFloat32s(a4).Div(v).Store(d4)
			simd.LoadFloat32s(a4[l:]).Div(v).Store(d4[l:])
			simd.LoadFloat32s(a4[2*l:]).Div(v).Store(d4[2*l:])
			simd.LoadFloat32s(a4[3*l:]).Div(v).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			simd.LoadFloat32s(a[i:]).Div(v).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = a[i] / s
		}
	case op == Div:
		for ; i+4*l <= n; i += 4 * l {
			a4, d4 := a[i:i+4*l], dst[i:i+4*l]
			v.Div(simd.LoadFloat32s(a4)).Store(d4)
			v.Div(simd.LoadFloat32s(a4[l:])).Store(d4[l:])
			v.Div(simd.LoadFloat32s(a4[2*l:])).Store(d4[2*l:])
			v.Div(simd.LoadFloat32s(a4[3*l:])).Store(d4[3*l:])
		}
		for ; i+l <= n; i += l {
			v.Div(simd.LoadFloat32s(a[i:])).Store(dst[i:])
		}
		for ; i < n; i++ {
			dst[i] = s / a[i]
		}
	}
}

// scalarOp is x op y as scalar Go computes it: the value of a run where both operands broadcast,
// the tail of a vector loop, and the reference that the tests hold the vector loops to.
func scalarOp(op BinaryOp, x, y float32) float32 {
	switch op {
	case Add:
		return x + y
	case Sub:
		return x - y
	case Mul:
		return x * y
	default:
		return x / y
	}
}

// Broadcastable reports whether BroadcastBinary takes operands of dims a and b to out: equal
// ranks, each dimension equal to out's or 1.
func Broadcastable(out, a, b []int) bool {
	_, ok := planBroadcast(out, a, b)
	return ok
}

// BroadcastBinary sets dst, of shape out, to a op b, where a and b have out's rank and each of
// their dimensions equals out's or is 1 (broadcast). ok is false, with nothing written, if the
// shapes do not fit that rule. workers > 1 splits large outputs into chunks among that many
// goroutines (natively; see parallel.go): each element is computed alone, so the split changes
// no bit.
func BroadcastBinary(op BinaryOp, dst, a, b []float32, out, aDims, bDims []int, workers int) (ok bool) {
	p, ok := planBroadcast(out, aDims, bDims)
	if !ok {
		return false
	}
	if p.rowBroadcast() {
		binaryRows(op, dst, a, b, p, workers)
		return true
	}
	parallelFor(workers, p.size(), parallelGrain, func(lo, hi int) {
		p.runRange(lo, hi, func(d, ia, ib, n, sa, sb int) {
			switch {
			case sa == 1 && sb == 1:
				Binary(op, dst[d:d+n], a[ia:ia+n], b[ib:ib+n])
			case sa == 1:
				binaryScalar(op, dst[d:d+n], a[ia:ia+n], b[ib], false)
			case sb == 1:
				binaryScalar(op, dst[d:d+n], b[ib:ib+n], a[ia], true)
			default: // both broadcast along the run: one value
				v := scalarOp(op, a[ia], b[ib])
				run := dst[d : d+n]
				for i := range run {
					run[i] = v
				}
			}
		})
	})
	return true
}

// repFloats bounds the copy of a vector that binaryRows repeats: enough for a few hundred elements
// per Binary call, few enough to stay in L1 (at most 1,024 floats, 4 KB).
const repFloats = 1024

// binaryRows is BroadcastBinary for a plan of rows (p.rowBroadcast): one operand a matrix
// [rows, n], the other one vector [n] for every row (the normalisation's per-channel mean and
// scale, n = C). Run by run, each row of 32 or 64 channels cost a callback, a call of Binary
// and its tail loop: 2.5 to 4.5 times the time per element of an equal-shape op in wasm (0.40
// against 1.8 Gelem/s at C = 32). Here the vector is repeated over as many rows as fit in
// repFloats, and Binary runs on whole groups of rows against that copy, with the same
// operation on the same values, so the same bits.
func binaryRows(op BinaryOp, dst, a, b []float32, p broadcastPlan, workers int) {
	rows, n := p.dims[0], p.dims[1]
	vecLeft := p.aStr[0] == 0
	vec := b
	if vecLeft {
		vec = a
	}
	group := max(1, repFloats/n)
	rp := getScratch(group * n)
	defer scratch.Put(rp)
	rep := *rp
	for r := range group {
		copy(rep[r*n:(r+1)*n], vec[:n])
	}
	parallelFor(workers, rows, max(1, parallelGrain/n), func(lo, hi int) {
		for r := lo; r < hi; r += group {
			m := min(group, hi-r) * n
			d, x := dst[r*n:r*n+m], rep[:m]
			if vecLeft {
				Binary(op, d, x, b[r*n:r*n+m])
			} else {
				Binary(op, d, a[r*n:r*n+m], x)
			}
		}
	})
}

// BroadcastCopy sets dst, of shape out, to src broadcast from srcDims (out's rank, each
// dimension equal to out's or 1). ok is false, with nothing written, if the shapes do not fit.
// workers splits large outputs as in BroadcastBinary.
func BroadcastCopy[T float32 | float64](dst, src []T, out, srcDims []int, workers int) (ok bool) {
	p, ok := planBroadcast(out, srcDims, srcDims)
	if !ok {
		return false
	}
	if len(p.dims) == 2 && p.aStr[0] == 0 && p.aStr[1] == 1 {
		// One vector for every row (a per-channel vector over an activation): the first row of
		// each chunk is the vector, and each copy doubles what is done, where copying run by run
		// cost a callback per row of 32 or 64 channels.
		rows, n := p.dims[0], p.dims[1]
		parallelFor(workers, rows, max(1, parallelGrain/n), func(lo, hi int) {
			d := dst[lo*n : hi*n]
			copy(d[:n], src[:n])
			for done := n; done < len(d); done *= 2 {
				copy(d[done:], d[:done])
			}
		})
		return true
	}
	parallelFor(workers, p.size(), parallelGrain, func(lo, hi int) {
		p.runRange(lo, hi, func(d, is, _, n, ss, _ int) {
			if ss == 1 {
				copy(dst[d:d+n], src[is:is+n])
				return
			}
			run := dst[d : d+n]
			if v := src[is]; v == 0 && !math.Signbit(float64(v)) {
				clear(run) // the zeros of gradients: memclr beats any loop (but -0 must stay -0)
			} else {
				i := 0
				if unsafe.Sizeof(v) == 4 && n > 0 { // float32: wasm's assembly stores its bits, NaN's payload and -0 kept
					i = fill32Blocks(unsafe.Pointer(&run[0]), n, math.Float32bits(float32(v)))
				}
				for ; i < len(run); i++ {
					run[i] = v
				}
			}
		})
	})
	return true
}

// broadcastPlan walks a broadcast as contiguous runs along its innermost (merged) axis.
type broadcastPlan struct {
	dims       []int // merged output dimensions, outermost first
	aStr, bStr []int // each operand's stride along them; 0 where it is broadcast
}

// planBroadcast merges neighbouring axes where a and b are both running or both broadcast,
// and drops axes of size 1.
func planBroadcast(out, aDims, bDims []int) (broadcastPlan, bool) {
	if len(aDims) != len(out) || len(bDims) != len(out) {
		return broadcastPlan{}, false
	}
	var p broadcastPlan
	type axis struct {
		dim        int
		aRun, bRun bool
	}
	var axes []axis
	for i, d := range out {
		if (aDims[i] != d && aDims[i] != 1) || (bDims[i] != d && bDims[i] != 1) {
			return p, false
		}
		if d == 1 {
			continue
		}
		ax := axis{d, aDims[i] == d, bDims[i] == d}
		if n := len(axes); n > 0 && axes[n-1].aRun == ax.aRun && axes[n-1].bRun == ax.bRun {
			axes[n-1].dim *= d
			continue
		}
		axes = append(axes, ax)
	}
	if len(axes) == 0 {
		axes = append(axes, axis{1, true, true})
	}
	p.dims = make([]int, len(axes))
	p.aStr = make([]int, len(axes))
	p.bStr = make([]int, len(axes))
	sa, sb := 1, 1
	for i := len(axes) - 1; i >= 0; i-- {
		p.dims[i] = axes[i].dim
		if axes[i].aRun {
			p.aStr[i] = sa
			sa *= axes[i].dim
		}
		if axes[i].bRun {
			p.bStr[i] = sb
			sb *= axes[i].dim
		}
	}
	return p, true
}

// rowBroadcast reports whether the plan is rows of one operand against one vector of the other:
// two merged axes, both operands running along the inner one, one of them broadcast along the
// outer (binaryRows).
func (p broadcastPlan) rowBroadcast() bool {
	return len(p.dims) == 2 && p.aStr[1] == 1 && p.bStr[1] == 1 && (p.aStr[0] == 0) != (p.bStr[0] == 0)
}

// size is the number of output elements.
func (p broadcastPlan) size() int {
	n := 1
	for _, d := range p.dims {
		n *= d
	}
	return n
}

// runRange calls fn for each run of the innermost axis within the output elements [lo, hi), in
// order, with the flat offsets of dst, a and b where it starts, its length, and a's and b's
// stride along it (1 or 0). The first and last runs may be parts of a run of the whole output.
func (p broadcastPlan) runRange(lo, hi int, fn func(d, ia, ib, n, sa, sb int)) {
	if lo >= hi {
		return
	}
	last := len(p.dims) - 1
	n, sa, sb := p.dims[last], p.aStr[last], p.bStr[last]
	// Where lo falls: the odometer of the outer axes, and the offset within its run.
	idx := make([]int, last)
	q, off := lo/n, lo%n
	ia, ib := 0, 0 // the start of the current whole run in a and b
	for axis := last - 1; axis >= 0; axis-- {
		idx[axis] = q % p.dims[axis]
		q /= p.dims[axis]
		ia += idx[axis] * p.aStr[axis]
		ib += idx[axis] * p.bStr[axis]
	}
	for d := lo; ; {
		m := min(n-off, hi-d)
		fn(d, ia+off*sa, ib+off*sb, m, sa, sb)
		if d += m; d >= hi {
			return
		}
		off = 0
		// Advance the outer axes like an odometer (d < hi ≤ size, so one is left to advance).
		for axis := last - 1; axis >= 0; axis-- {
			idx[axis]++
			ia += p.aStr[axis]
			ib += p.bStr[axis]
			if idx[axis] < p.dims[axis] {
				break
			}
			ia -= p.aStr[axis] * p.dims[axis]
			ib -= p.bStr[axis] * p.dims[axis]
			idx[axis] = 0
		}
	}
}
