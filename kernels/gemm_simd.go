//go:build goexperiment.simd

package kernels

// f32-gemm/4x2v (wasm) and f32-gemm/6x2v (amd64, arm64): C = A·B in float32, with a register
// tile of gemmMR rows of C by 2 vectors of columns: 4×8 in wasm, 6×16 with AVX2, 6×32 with
// AVX-512. Each step of k loads 2 vectors of B and broadcasts one value of A per row into
// 2·gemmMR accumulators. 6 rows use 15 of AVX2's 16 registers (AVX-512 and NEON have 32); in
// wasm, V8 spills at 6 rows (measured: 6.7–7.8 GFLOP/s against 8–13 at 4), so wasm keeps 4.
//
// B is packed once into panels of 2 vectors' width, k-major, zero-padded to whole panels. A is
// read in place where its rows are contiguous, and where its columns are (the Aᵀ of dB = Aᵀ·dY:
// the micro…T tiles), and otherwise (the tiles at the bottom edge) packed per tile into gemmMR
// rows of gemmKC steps. K is walked in
// blocks of gemmKC so that the B panel a tile reads stays in L1.

import (
	"simd"
	"sync"
)

// Lanes is the number of float32 lanes in a vector on this machine.
func Lanes() int { return simd.Float32s{}.Len() }

// Matrix is a strided view of a float32 matrix: element (i, j) is
// Data[Offset + i*RowStride + j*ColStride].
type Matrix struct {
	Data                         []float32
	Offset, RowStride, ColStride int
}

// gemmKC is the steps of k per block: a gemmMR×256 A panel and a 256×(2 vectors) B panel.
const gemmKC = 256

// scratch keeps the packing buffers of finished products for the next ones. Not a sync.Pool,
// which a collection empties: in a browser worker, whose heap runs near its memory limit, Go
// collects several times a step, and every product then allocated its buffers afresh. It holds
// at most scratchKept buffers, each as large as the largest product has needed.
var scratch scratchList

// scratchKept bounds the buffers kept: a product takes three (packed A, its edge tile, packed B)
// per goroutine, and the products of a step run one after another.
const scratchKept = 32

type scratchList struct {
	mu   sync.Mutex
	free []*[]float32
}

// getScratch returns a slice of length n (not zeroed) and its handle for scratch.Put: the kept
// buffer that fits most tightly, else the largest one, grown, so that the buffers kept are no more
// than the products ever used at once.
func getScratch(n int) *[]float32 {
	scratch.mu.Lock()
	var p *[]float32
	best := -1
	for i, f := range scratch.free {
		fits, bestFits := cap(*f) >= n, best >= 0 && cap(*scratch.free[best]) >= n
		switch {
		case best < 0,
			fits && (!bestFits || cap(*f) < cap(*scratch.free[best])),
			!fits && !bestFits && cap(*f) > cap(*scratch.free[best]):
			best = i
		}
	}
	if best >= 0 {
		p = scratch.free[best]
		scratch.free = append(scratch.free[:best], scratch.free[best+1:]...)
	}
	scratch.mu.Unlock()
	if p == nil {
		p = new([]float32)
	}
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// Put gives p back for reuse, or drops it when scratchKept are kept.
func (l *scratchList) Put(p *[]float32) {
	l.mu.Lock()
	if len(l.free) < scratchKept {
		l.free = append(l.free, p)
	}
	l.mu.Unlock()
}

// MatMul sets c, dense row-major [m,n], to a·b, a [m,k] and b [k,n]. workers > 1 splits the rows
// of c among that many goroutines; each element's sum runs over k in the same order whatever
// the split, so the result does not depend on workers. A small, mostly zero A (Winograd's
// transforms) takes a path that skips its zeros, with the same bits (gemm_sparse_simd.go).
func MatMul(c []float32, a, b Matrix, m, k, n, workers int) {
	c = c[:m*n]
	if k == 0 {
		clear(c)
		return
	}
	if s := sparsify(a, b, m, k, n); s != nil {
		matMulSparse(c, s, b, m, n, workers)
		return
	}
	matMulTiled(c, a, b, m, k, n, workers)
}

// matMulTiled is MatMul through the register tile, for any A.
func matMulTiled(c []float32, a, b Matrix, m, k, n, workers int) {
	nr := 2 * Lanes()
	panels := (n + nr - 1) / nr
	pb := getScratch(panels * nr * k)
	defer scratch.Put(pb)
	packB(*pb, b, k, n, nr)

	tiles := (m + gemmMR - 1) / gemmMR
	// Below about 64 KFLOP a goroutine costs more than it saves.
	workers = max(1, min(workers, tiles, m*n*k/(1<<16)))
	if workers == 1 {
		gemmTiles(c, a, *pb, 0, tiles, m, k, n, nr)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := tiles*w/workers, tiles*(w+1)/workers
		wg.Go(func() { gemmTiles(c, a, *pb, lo, hi, m, k, n, nr) })
	}
	wg.Wait()
}

// packB lays b [k,n] out as panels of nr columns: panel p holds, for each kk, b[kk, p*nr:(p+1)*nr],
// zero-padded past n.
func packB(dst []float32, b Matrix, k, n, nr int) {
	for p := 0; p*nr < n; p++ {
		panel := dst[p*nr*k : (p+1)*nr*k]
		j0, w := p*nr, min(nr, n-p*nr)
		if b.RowStride == 1 && b.ColStride != 1 {
			packColumns(panel, b, j0, w, k, nr)
			continue
		}
		if b.ColStride == 1 && w == nr {
			packRows(panel, b, j0, k, nr)
			continue
		}
		for kk := range k {
			row := panel[kk*nr : kk*nr+nr]
			src := b.Offset + kk*b.RowStride + j0*b.ColStride
			if b.ColStride == 1 {
				copy(row, b.Data[src:src+w])
			} else {
				for j := range w {
					row[j] = b.Data[src+j*b.ColStride]
				}
			}
			clear(row[w:])
		}
	}
}

// packColumns is packB's panel of columns [j0, j0+w) for a B stored by columns (the Wᵀ of a
// dense layer's input gradient, Winograd's transposed filters): each column is contiguous in k,
// so it is read in one run and written down the panel. Reading a row across the columns instead
// took a cache line per element: dense1's dY·Wᵀ ran at 43 GFLOP/s natively and 7.4 in wasm,
// against 140 and 14 for products whose B is stored by rows.
func packColumns(panel []float32, b Matrix, j0, w, k, nr int) {
	if w < nr {
		clear(panel)
	}
	for j := range w {
		packColumn(panel[j:], b.Data[b.Offset+(j0+j)*b.ColStride:][:k], nr)
	}
}

// aRows returns the gemmMR rows of a's tile at row i0, steps [k0, k0+kc), each of length kc:
// slices of a itself where its rows are contiguous and whole, else rows packed into dst (zero
// past m). Reading A in place saves a copy of A per product, which in wasm cost as much as a
// fifth of the narrow layers' products. It also returns the tile as one slice from its first
// row on, with the stride between rows (for tile6x2).
func aRows(rows *[gemmMR][]float32, dst []float32, a Matrix, i0, k0, kc, m int) (tile []float32, stride int) {
	base := a.Offset + i0*a.RowStride + k0*a.ColStride
	valid := min(gemmMR, m-i0)
	if a.ColStride == 1 && valid == gemmMR {
		for r := range rows {
			o := base + r*a.RowStride
			rows[r] = a.Data[o : o+kc]
		}
		return a.Data[base:], a.RowStride
	}
	for r := range rows {
		rows[r] = dst[r*kc : (r+1)*kc]
		if r >= valid {
			clear(rows[r])
		}
	}
	if a.RowStride < a.ColStride {
		// A is stored by columns (the Aᵀ of dB = Aᵀ·dY): read each column's rows together.
		for kk := range kc {
			col := base + kk*a.ColStride
			for r := range valid {
				rows[r][kk] = a.Data[col+r*a.RowStride]
			}
		}
		return dst, kc
	}
	for r := range valid {
		row, o := rows[r], base+r*a.RowStride
		for kk := range row {
			row[kk] = a.Data[o+kk*a.ColStride]
		}
	}
	return dst, kc
}

// gemmTiles computes the row tiles [lo, hi) of c.
func gemmTiles(c []float32, a Matrix, pb []float32, lo, hi, m, k, n, nr int) {
	pa := getScratch(gemmMR * gemmKC)
	defer scratch.Put(pa)
	edge := getScratch(gemmMR * nr)
	defer scratch.Put(edge)
	var rows [gemmMR][]float32
	var spread []float32 // wasm's tile reads A spread, once per tile and block of k (tile4)
	if gemmMR == 4 {
		sp := getScratch(16 * gemmKC)
		defer scratch.Put(sp)
		spread = *sp
	}
	for k0 := 0; k0 < k; k0 += gemmKC {
		kc := min(gemmKC, k-k0)
		accumulate := k0 > 0
		for t := lo; t < hi; t++ {
			i0 := t * gemmMR
			valid := min(gemmMR, m-i0)
			if a.RowStride == 1 && valid == gemmMR {
				// A stored by columns (the Aᵀ of dB = Aᵀ·dY): a tile's gemmMR values of each step of k
				// are contiguous, so the tile reads them in place instead of packing them.
				base := a.Offset + i0 + k0*a.ColStride
				at := a.Data[base : base+(kc-1)*a.ColStride+gemmMR]
				j0 := 0
				if gemmMR == 4 { // wasm: every whole panel in one call
					spreadCols4(spread, at, a.ColStride, kc)
					tile4(spread, pb[k0*nr:], kc, c[i0*n:], n, accumulate, n/nr, k*nr)
					j0 = n / nr * nr
				}
				for ; j0 < n; j0 += nr {
					panel := pb[j0*k+k0*nr : j0*k+(k0+kc)*nr]
					if cols := min(nr, n-j0); cols == nr {
						tile6T(at, a.ColStride, panel, kc, c[i0*n+j0:], n, accumulate)
						continue
					}
					e := *edge
					for r := range gemmMR {
						copy(e[r*nr:r*nr+nr], c[(i0+r)*n+j0:(i0+r)*n+n])
					}
					if gemmMR == 4 {
						tile4(spread, panel, kc, e, nr, accumulate, 1, 0)
					} else {
						tile6T(at, a.ColStride, panel, kc, e, nr, accumulate)
					}
					for r := range gemmMR {
						copy(c[(i0+r)*n+j0:(i0+r)*n+n], e[r*nr:])
					}
				}
				continue
			}
			tile, rs := aRows(&rows, *pa, a, i0, k0, kc, m)
			j0 := 0
			if gemmMR == 4 {
				spreadRows4(spread, &rows, kc)
				if valid == gemmMR { // wasm: every whole panel in one call
					tile4(spread, pb[k0*nr:], kc, c[i0*n:], n, accumulate, n/nr, k*nr)
					j0 = n / nr * nr
				}
			}
			for ; j0 < n; j0 += nr {
				panel := pb[j0*k+k0*nr : j0*k+(k0+kc)*nr]
				if cols := min(nr, n-j0); valid == gemmMR && cols == nr {
					tile6(&rows, tile, rs, panel, kc, c[i0*n+j0:], n, accumulate)
				} else {
					// Edge tile: compute the whole tile into a scratch tile, keep what fits.
					e := *edge
					for r := range valid {
						copy(e[r*nr:r*nr+cols], c[(i0+r)*n+j0:])
					}
					if gemmMR == 4 {
						tile4(spread, panel, kc, e, nr, accumulate, 1, 0)
					} else {
						tile6(&rows, tile, rs, panel, kc, e, nr, accumulate)
					}
					for r := range valid {
						copy(c[(i0+r)*n+j0:(i0+r)*n+j0+cols], e[r*nr:])
					}
				}
			}
		}
	}
}

// micro4x2 is the 4-row register tile in Go, the reference for wasm's assembly (tile4,
// TestTile4AsmSameBits): row r < 4 of c, c[r*ldc : r*ldc+2L], gets (or, if
// accumulate, adds) Σ_kk a[r][kk] * pb[kk*2L : kk*2L+2L] over kc steps.
func micro4x2(a *[gemmMR][]float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	l := Lanes()
	var c00, c01, c10, c11, c20, c21, c30, c31 simd.Float32s
	if accumulate {
		c00, c01 = simd.LoadFloat32s(c), simd.LoadFloat32s(c[l:])
		c10, c11 = simd.LoadFloat32s(c[ldc:]), simd.LoadFloat32s(c[ldc+l:])
		c20, c21 = simd.LoadFloat32s(c[2*ldc:]), simd.LoadFloat32s(c[2*ldc+l:])
		c30, c31 = simd.LoadFloat32s(c[3*ldc:]), simd.LoadFloat32s(c[3*ldc+l:])
	}
	a0, a1, a2, a3 := a[0][:kc], a[1][:kc], a[2][:kc], a[3][:kc]
	pb = pb[:kc*2*l]
	kk := 0
	// Two steps of k per iteration: half the loop and reslicing overhead.
	for ; kk+1 < kc; kk += 2 {
		b0, b1 := simd.LoadFloat32s(pb), simd.LoadFloat32s(pb[l:])
		b2, b3 := simd.LoadFloat32s(pb[2*l:]), simd.LoadFloat32s(pb[3*l:])
		v0 := simd.BroadcastFloat32s(a0[kk])
		c00, c01 = v0.MulAdd(b0, c00), v0.MulAdd(b1, c01)
		v1 := simd.BroadcastFloat32s(a1[kk])
		c10, c11 = v1.MulAdd(b0, c10), v1.MulAdd(b1, c11)
		v2 := simd.BroadcastFloat32s(a2[kk])
		c20, c21 = v2.MulAdd(b0, c20), v2.MulAdd(b1, c21)
		v3 := simd.BroadcastFloat32s(a3[kk])
		c30, c31 = v3.MulAdd(b0, c30), v3.MulAdd(b1, c31)
		v0 = simd.BroadcastFloat32s(a0[kk+1])
		c00, c01 = v0.MulAdd(b2, c00), v0.MulAdd(b3, c01)
		v1 = simd.BroadcastFloat32s(a1[kk+1])
		c10, c11 = v1.MulAdd(b2, c10), v1.MulAdd(b3, c11)
		v2 = simd.BroadcastFloat32s(a2[kk+1])
		c20, c21 = v2.MulAdd(b2, c20), v2.MulAdd(b3, c21)
		v3 = simd.BroadcastFloat32s(a3[kk+1])
		c30, c31 = v3.MulAdd(b2, c30), v3.MulAdd(b3, c31)
		pb = pb[4*l:]
	}
	if kk < kc {
		b0, b1 := simd.LoadFloat32s(pb), simd.LoadFloat32s(pb[l:])
		v0 := simd.BroadcastFloat32s(a0[kk])
		c00, c01 = v0.MulAdd(b0, c00), v0.MulAdd(b1, c01)
		v1 := simd.BroadcastFloat32s(a1[kk])
		c10, c11 = v1.MulAdd(b0, c10), v1.MulAdd(b1, c11)
		v2 := simd.BroadcastFloat32s(a2[kk])
		c20, c21 = v2.MulAdd(b0, c20), v2.MulAdd(b1, c21)
		v3 := simd.BroadcastFloat32s(a3[kk])
		c30, c31 = v3.MulAdd(b0, c30), v3.MulAdd(b1, c31)
	}
	c00.Store(c)
	c01.Store(c[l:])
	c10.Store(c[ldc:])
	c11.Store(c[ldc+l:])
	c20.Store(c[2*ldc:])
	c21.Store(c[2*ldc+l:])
	c30.Store(c[3*ldc:])
	c31.Store(c[3*ldc+l:])
}

// micro4x2T is micro4x2 reading A's tile in place where A is stored by columns: step kk's 4
// values are a[kk*lda : kk*lda+4]. In wasm, packing such an A row by row (aRows, a scalar
// gather) took 4–5% of a training step.
func micro4x2T(a []float32, lda int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	l := Lanes()
	var c00, c01, c10, c11, c20, c21, c30, c31 simd.Float32s
	if accumulate {
		c00, c01 = simd.LoadFloat32s(c), simd.LoadFloat32s(c[l:])
		c10, c11 = simd.LoadFloat32s(c[ldc:]), simd.LoadFloat32s(c[ldc+l:])
		c20, c21 = simd.LoadFloat32s(c[2*ldc:]), simd.LoadFloat32s(c[2*ldc+l:])
		c30, c31 = simd.LoadFloat32s(c[3*ldc:]), simd.LoadFloat32s(c[3*ldc+l:])
	}
	pb = pb[:kc*2*l]
	for kk := range kc {
		ak := (*[4]float32)(a[kk*lda:])
		b0, b1 := simd.LoadFloat32s(pb), simd.LoadFloat32s(pb[l:])
		v0 := simd.BroadcastFloat32s(ak[0])
		c00, c01 = v0.MulAdd(b0, c00), v0.MulAdd(b1, c01)
		v1 := simd.BroadcastFloat32s(ak[1])
		c10, c11 = v1.MulAdd(b0, c10), v1.MulAdd(b1, c11)
		v2 := simd.BroadcastFloat32s(ak[2])
		c20, c21 = v2.MulAdd(b0, c20), v2.MulAdd(b1, c21)
		v3 := simd.BroadcastFloat32s(ak[3])
		c30, c31 = v3.MulAdd(b0, c30), v3.MulAdd(b1, c31)
		pb = pb[2*l:]
	}
	c00.Store(c)
	c01.Store(c[l:])
	c10.Store(c[ldc:])
	c11.Store(c[ldc+l:])
	c20.Store(c[2*ldc:])
	c21.Store(c[2*ldc+l:])
	c30.Store(c[3*ldc:])
	c31.Store(c[3*ldc+l:])
}

// tile6 is the native register tile for A's rows as aRows gives them (rows, or tile with
// stride rs between rows): the AVX-512 assembly where useAVX512Asm, else micro6x2. Never in wasm,
// whose 4-row tile gemmTiles calls directly.
func tile6(rows *[gemmMR][]float32, tile []float32, rs int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	if useAVX512Asm {
		tile6x2(tile, rs, 1, pb, kc, c, ldc, accumulate)
		return
	}
	micro6x2(rows, pb, kc, c, ldc, accumulate)
}

// tile6T is tile6 for A stored by columns: the assembly, else micro6x2T.
func tile6T(a []float32, lda int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	if useAVX512Asm {
		tile6x2(a, 1, lda, pb, kc, c, ldc, accumulate)
		return
	}
	micro6x2T(a, lda, pb, kc, c, ldc, accumulate)
}

// micro6x2 is micro4x2 with 6 rows.
func micro6x2(a *[gemmMR][]float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	l := Lanes()
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 simd.Float32s
	if accumulate {
		c00, c01 = simd.LoadFloat32s(c), simd.LoadFloat32s(c[l:])
		c10, c11 = simd.LoadFloat32s(c[ldc:]), simd.LoadFloat32s(c[ldc+l:])
		c20, c21 = simd.LoadFloat32s(c[2*ldc:]), simd.LoadFloat32s(c[2*ldc+l:])
		c30, c31 = simd.LoadFloat32s(c[3*ldc:]), simd.LoadFloat32s(c[3*ldc+l:])
		c40, c41 = simd.LoadFloat32s(c[4*ldc:]), simd.LoadFloat32s(c[4*ldc+l:])
		c50, c51 = simd.LoadFloat32s(c[5*ldc:]), simd.LoadFloat32s(c[5*ldc+l:])
	}
	a0, a1, a2 := a[0][:kc], a[1][:kc], a[2][:kc]
	// %gemmMR keeps the indices constant-valid in wasm, where gemmMR is 4 and this is never called.
	a3, a4, a5 := a[3%gemmMR][:kc], a[4%gemmMR][:kc], a[5%gemmMR][:kc]
	pb = pb[:kc*2*l]
	for kk := range a0 {
		b0, b1 := simd.LoadFloat32s(pb), simd.LoadFloat32s(pb[l:])
		v0 := simd.BroadcastFloat32s(a0[kk])
		c00, c01 = v0.MulAdd(b0, c00), v0.MulAdd(b1, c01)
		v1 := simd.BroadcastFloat32s(a1[kk])
		c10, c11 = v1.MulAdd(b0, c10), v1.MulAdd(b1, c11)
		v2 := simd.BroadcastFloat32s(a2[kk])
		c20, c21 = v2.MulAdd(b0, c20), v2.MulAdd(b1, c21)
		v3 := simd.BroadcastFloat32s(a3[kk])
		c30, c31 = v3.MulAdd(b0, c30), v3.MulAdd(b1, c31)
		v4 := simd.BroadcastFloat32s(a4[kk])
		c40, c41 = v4.MulAdd(b0, c40), v4.MulAdd(b1, c41)
		v5 := simd.BroadcastFloat32s(a5[kk])
		c50, c51 = v5.MulAdd(b0, c50), v5.MulAdd(b1, c51)
		pb = pb[2*l:]
	}
	c00.Store(c)
	c01.Store(c[l:])
	c10.Store(c[ldc:])
	c11.Store(c[ldc+l:])
	c20.Store(c[2*ldc:])
	c21.Store(c[2*ldc+l:])
	c30.Store(c[3*ldc:])
	c31.Store(c[3*ldc+l:])
	c40.Store(c[4*ldc:])
	c41.Store(c[4*ldc+l:])
	c50.Store(c[5*ldc:])
	c51.Store(c[5*ldc+l:])
}

// micro6x2T is micro6x2 reading A in place where it is stored by columns: row r's value at step
// kk is a[kk*lda+r]. Each element of C gets the same fused multiply-adds in the same order as in
// micro6x2, so the two give the same bits.
func micro6x2T(a []float32, lda int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	l := Lanes()
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 simd.Float32s
	if accumulate {
		c00, c01 = simd.LoadFloat32s(c), simd.LoadFloat32s(c[l:])
		c10, c11 = simd.LoadFloat32s(c[ldc:]), simd.LoadFloat32s(c[ldc+l:])
		c20, c21 = simd.LoadFloat32s(c[2*ldc:]), simd.LoadFloat32s(c[2*ldc+l:])
		c30, c31 = simd.LoadFloat32s(c[3*ldc:]), simd.LoadFloat32s(c[3*ldc+l:])
		c40, c41 = simd.LoadFloat32s(c[4*ldc:]), simd.LoadFloat32s(c[4*ldc+l:])
		c50, c51 = simd.LoadFloat32s(c[5*ldc:]), simd.LoadFloat32s(c[5*ldc+l:])
	}
	pb = pb[:kc*2*l]
	for kk := range kc { // not `for range kc` with a counter of our own: Go 1.27.3's compiler crashes on that here
		ak := (*[6]float32)(a[kk*lda:])
		b0, b1 := simd.LoadFloat32s(pb), simd.LoadFloat32s(pb[l:])
		v0 := simd.BroadcastFloat32s(ak[0])
		c00, c01 = v0.MulAdd(b0, c00), v0.MulAdd(b1, c01)
		v1 := simd.BroadcastFloat32s(ak[1])
		c10, c11 = v1.MulAdd(b0, c10), v1.MulAdd(b1, c11)
		v2 := simd.BroadcastFloat32s(ak[2])
		c20, c21 = v2.MulAdd(b0, c20), v2.MulAdd(b1, c21)
		v3 := simd.BroadcastFloat32s(ak[3])
		c30, c31 = v3.MulAdd(b0, c30), v3.MulAdd(b1, c31)
		v4 := simd.BroadcastFloat32s(ak[4])
		c40, c41 = v4.MulAdd(b0, c40), v4.MulAdd(b1, c41)
		v5 := simd.BroadcastFloat32s(ak[5])
		c50, c51 = v5.MulAdd(b0, c50), v5.MulAdd(b1, c51)
		pb = pb[2*l:]
	}
	c00.Store(c)
	c01.Store(c[l:])
	c10.Store(c[ldc:])
	c11.Store(c[ldc+l:])
	c20.Store(c[2*ldc:])
	c21.Store(c[2*ldc+l:])
	c30.Store(c[3*ldc:])
	c31.Store(c[3*ldc+l:])
	c40.Store(c[4*ldc:])
	c41.Store(c[4*ldc+l:])
	c50.Store(c[5*ldc:])
	c51.Store(c[5*ldc+l:])
}
