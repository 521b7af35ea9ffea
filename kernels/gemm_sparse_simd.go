//go:build goexperiment.simd

package kernels

// The product of a small, sparse A by a wide B: Winograd's transforms (model/winograd.go), whose
// constant matrices and their transposes hold mostly zeros (F(2×2, 3×3): Bᵀ⊗Bᵀ has 64 non-zero
// entries of 256, G⊗G 64 of 144, Aᵀ⊗Aᵀ 36 of 64; F(4×4, 3×3): 484 of 1,296, 196 of 324, 324 of
// 576), times a data matrix of 16 or 36 (or 9, or 4, or 16) rows and up to hundreds of
// thousands of columns. The register tile would multiply every zero and first pack all of B; here
// each row of C is the sum of the rows of B its non-zero entries pick, read in place, a few
// vectors of columns at a time so that the rows of B in use stay in L1.
//
// The same bits as the register tile: each element starts from zero and adds a[i,kk]·b[kk,j] with
// the same MulAdd in increasing kk. A skipped term is a[i,kk] = 0, whose product ±0 leaves a sum
// that started at +0 unchanged (a sum of finite terms from +0 is never −0), so skipping changes
// no bit while B is finite. TestMatMulSparseSameBits checks it.

import (
	"simd"
	"sync"
)

// sparseMaxA bounds A's entries for the sparse path: Winograd's largest transform, F(4×4, 3×3)'s
// input transform, is 36×36.
const sparseMaxA = 36 * 36

// sparseVectors is the vectors of columns each row of C sums at once: 8 accumulators, and 8
// vectors of each of up to 36 rows of B, 4.6 KB in wasm, stay in registers and L1.
const sparseVectors = 8

// sparseTerm is one non-zero entry of a row of A.
type sparseTerm struct {
	k int32
	v float32
}

// sparseA is A's non-zero entries row by row, in increasing k: row i's are terms[start[i]:start[i+1]].
type sparseA struct {
	terms []sparseTerm
	start []int32
	// maxK is the largest k of the terms, the last row of B they read; -1 if there are none.
	maxK int32
}

// sparseDenseK is the depth up to which the sparse path takes even a dense A: packing B, which
// the sparse path saves, then costs as much as the product. Measured on [4,6] and [6,4] Aᵀ and A
// of F(4×4, 3×3), 75% non-zero, times 49,152 and 98,304 columns (natively): the sparse path took
// 229 µs against the register tile's 894 for Aᵀ, whose 4 rows fill two thirds of a 6-row tile,
// and 111 against 99 for A.
const sparseDenseK = 8

// sparsify returns A's non-zero entries, or nil where the sparse path would not pay: A too
// large, B's rows not contiguous, B too narrow for a vector, or more than ⅝ of A non-zero with
// more than sparseDenseK columns (the register tile does about 1.7 multiply-adds per
// instruction, the sparse path about 0.9, and it saves packing B).
func sparsify(a, b Matrix, m, k, n int) *sparseA {
	if m*k > sparseMaxA || b.ColStride != 1 || n < sparseVectors*Lanes() {
		return nil
	}
	at := func(i, kk int) float32 { return a.Data[a.Offset+i*a.RowStride+kk*a.ColStride] }
	nz := 0
	for i := range m {
		for kk := range k {
			if at(i, kk) != 0 {
				nz++
			}
		}
	}
	if 8*nz > 5*m*k && k > sparseDenseK {
		return nil
	}
	s := &sparseA{terms: make([]sparseTerm, 0, nz), start: make([]int32, m+1), maxK: -1}
	for i := range m {
		s.start[i] = int32(len(s.terms))
		for kk := range k {
			if v := at(i, kk); v != 0 {
				s.terms = append(s.terms, sparseTerm{int32(kk), v})
				s.maxK = max(s.maxK, int32(kk))
			}
		}
	}
	s.start[m] = int32(len(s.terms))
	return s
}

// matMulSparse sets c [m,n] to a·b with A given by its non-zero entries, splitting the columns
// among workers; each element is computed whole by one of them.
func matMulSparse(c []float32, s *sparseA, b Matrix, m, n, workers int) {
	w := sparseVectors * Lanes()
	blocks := (n + w - 1) / w
	// Below about 64 K multiply-adds a goroutine costs more than it saves.
	workers = max(1, min(workers, blocks, int(s.start[m])*n/(1<<16)))
	if workers == 1 {
		sparseColumns(c, s, b, m, n, 0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range workers {
		lo, hi := blocks*i/workers*w, min(n, blocks*(i+1)/workers*w)
		wg.Go(func() { sparseColumns(c, s, b, m, n, lo, hi) })
	}
	wg.Wait()
}

// sparseColumns computes columns [lo, hi) of c; lo is a multiple of the block width.
func sparseColumns(c []float32, s *sparseA, b Matrix, m, n, lo, hi int) {
	l := Lanes()
	w := sparseVectors * l
	j := lo
	if useWasmSparseAsm && s.maxK >= 0 && hi-lo >= w {
		// Every whole block in one call of the assembly, as gemmTiles takes a row of panels.
		blocks := (hi - lo) / w
		sparseBlockWasm(c[j:], n, s, m, b, j, blocks)
		j += blocks * w
	}
	for ; j+w <= hi; j += w {
		sparseBlock(c[j:], n, s, m, b, j)
	}
	if j == hi {
		return
	}
	// The last columns, fewer than a block: through a zero-padded copy of them, with the same
	// vector MulAdd, so that they get the same bits as the rest.
	cols := hi - j
	kmax := int(s.maxK) + 1 // the rows of B that A's entries read
	pad := getScratch(kmax * w)
	defer scratch.Put(pad)
	rows := *pad
	for kk := range kmax {
		row := rows[kk*w : kk*w+w]
		copy(row, b.Data[b.Offset+kk*b.RowStride+j:b.Offset+kk*b.RowStride+hi])
		clear(row[cols:])
	}
	padded := Matrix{Data: rows, RowStride: w, ColStride: 1}
	out := getScratch(m * w)
	defer scratch.Put(out)
	sparseBlock(*out, w, s, m, padded, 0)
	for i := range m {
		copy(c[i*n+j:i*n+hi], (*out)[i*w:i*w+cols])
	}
}

// checkSparseBlock panics unless every element that a block of w columns from j0 reads of b and
// of s, and writes of c (m rows, ldc apart), is in bounds: the blocks in assembly rely on it, with
// sparsify's terms in order and each k at most maxK.
func checkSparseBlock(c []float32, ldc int, s *sparseA, m int, b Matrix, j0, w int) {
	last := b.Offset + int(s.maxK)*b.RowStride + j0
	if m < 1 || s.maxK < 0 || len(s.start) < m+1 || int(s.start[m]) > len(s.terms) ||
		len(c) < (m-1)*ldc+w || b.Offset+j0 < 0 || len(b.Data) < last+w {
		panic("kernels: a sparse block out of bounds")
	}
}

// sparseBlock sets the sparseVectors·L columns from j0 of each of the m rows of c (row i at
// c[i*ldc:]) to Σ v·b[k, j0 : j0+sparseVectors·L] over row i's terms. One call does every row of
// the block: in wasm a call per row cost a third as much as its work.
func sparseBlock(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	switch {
	case useAVX512Asm && s.maxK >= 0:
		sparseBlockAsm(c, ldc, s, m, b, j0)
		return
	case useWasmSparseAsm && s.maxK >= 0:
		sparseBlockWasm(c, ldc, s, m, b, j0, 1)
		return
	}
	l := Lanes()
	for i := range m {
		var c0, c1, c2, c3, c4, c5, c6, c7 simd.Float32s
		for _, t := range s.terms[s.start[i]:s.start[i+1]] {
			v := simd.BroadcastFloat32s(t.v)
			row := b.Data[b.Offset+int(t.k)*b.RowStride+j0:]
			row = row[:8*l]
			c0 = v.MulAdd(simd.LoadFloat32s(row), c0)
			c1 = v.MulAdd(simd.LoadFloat32s(row[l:]), c1)
			c2 = v.MulAdd(simd.LoadFloat32s(row[2*l:]), c2)
			c3 = v.MulAdd(simd.LoadFloat32s(row[3*l:]), c3)
			c4 = v.MulAdd(simd.LoadFloat32s(row[4*l:]), c4)
			c5 = v.MulAdd(simd.LoadFloat32s(row[5*l:]), c5)
			c6 = v.MulAdd(simd.LoadFloat32s(row[6*l:]), c6)
			c7 = v.MulAdd(simd.LoadFloat32s(row[7*l:]), c7)
		}
		ci := c[i*ldc : i*ldc+8*l]
		c0.Store(ci)
		c1.Store(ci[l:])
		c2.Store(ci[2*l:])
		c3.Store(ci[3*l:])
		c4.Store(ci[4*l:])
		c5.Store(ci[5*l:])
		c6.Store(ci[6*l:])
		c7.Store(ci[7*l:])
	}
}
