package model

// Winograd's minimal filtering for the 3×3, stride-1, SAME convolutions (conv2 and conv3 of the
// notebook's network): forward, input gradient and filter gradient.
//
// im2col multiplies every output position by all 9 taps: 9·C·F multiply-adds a position. Winograd
// computes each m×m block of outputs from an (m+2)×(m+2) tile of input in a transformed space
// where the convolution is an element-wise product: (m+2)²·C·F multiply-adds for m² positions.
// F(2×2, 3×3) does 16 for 4 (2.25× fewer than im2col), F(4×4, 3×3) 36 for 16 (4× fewer). On a
// 7×7 map both cover 8×8 (4×4 tiles of 2, or 2×2 tiles of 4), so per channel pair an image costs
// 441 products with im2col, 256 with F(2×2) and 144 with F(4×4). The transforms are linear maps
// over the tile's positions, applied with DotGeneral as constant Kronecker matrices ([n²,n²]
// input, [n²,9] filter, [m²,n²] output, n = m+2), or in WebAssembly the input and output ones as
// two products of their factors, one per side of a tile (separableTransforms): DotGeneral's SIMD
// kernel is much faster in simplego than strided gathers and element-wise adds, and it skips
// their zeros (kernels/gemm_sparse_simd.go): F(4×4)'s input transform has 484 non-zero entries of
// 1,296, its factor Bᵀ 22 of 36.
//
// The model uses F(4×4, 3×3) (winograd): a wasm training step ran 18% faster than with
// F(2×2, 3×3) (472, 447 and 500 images/s against 411, 372 and 424, alternating; BENCHMARKS.md),
// its fewer products outweighing its larger transforms. Its transforms multiply by up to 8 and by
// 1/24, so its float32 results differ from the direct convolution's by about 1e-4 of the terms'
// size where F(2×2)'s, whose entries are 0, ±½ and ±1, differ by 1e-5.
//
// Layout: the tiles are gathered position-major, [n², tiles, C], so that each transform is one
// plain product over the leading axis and the n² products [tiles, C]·[C, F] are one DotGeneral
// batched over that axis. The last Gather puts the m×m output blocks back in row order and drops
// the 8th row and column: a Gather, not a Slice, since simplego cannot differentiate Slice.
//
// Every output row depends on its own image's tiles only, and each product sums over k in an order
// fixed by k alone (kernels/README.md), so a team of workers computes the same bits as one.

import (
	"fmt"
	"runtime"
	"slices"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/kernels"
)

// winogradOn selects Winograd for every convolution it applies to (see useWinograd) in the
// pure-Go backend's graphs, in WebAssembly and natively. F(2×2, 3×3) paid off in WebAssembly only
// (a step 10–15% faster with 4-lane products; natively 6–25% slower, its transforms costing more
// than the 16-lane multiply-adds they saved). F(4×4, 3×3) pays off in both: a native epoch on two
// replicas trained at 1,945, 1,836 and 1,949 images/s against im2col's 1,584, 1,569 and 1,612, to
// 97.26%, 97.86% and 98.36% against 97.54%, 97.79% and 97.70% (seeds 1 to 3; BENCHMARKS.md).
// It needs the SIMD kernels (kernels/README.md): without them its transforms are dense products
// (1,296 multiply-adds where the kernel does 484), and simplego's own DotGeneral sums in an order
// that changes with a product's size, so a team would not get one worker's bits. A build without
// them keeps im2col. Tests switch it to check both formulations.
var winogradOn = len(kernels.Active()) > 0

// useWinograd reports whether a k×k conv with this stride is computed with Winograd: 3×3,
// stride 1, not native (XLA has its own convolutions), and switched on.
func useWinograd(k, stride int, native bool) bool {
	return winogradOn && !native && k == 3 && stride == 1
}

// winogradScheme is one of Winograd's minimal filterings F(m×m, 3×3): each m×m block of outputs
// from an (m+2)×(m+2) tile of input, through the transforms Bᵀ [m+2, m+2], G [m+2, 3] and
// Aᵀ [m, m+2] (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015), for the
// correlation y[i] = Σₖ d[i+k]·g[k] that TF's conv2d computes: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
type winogradScheme struct {
	m         int // the side of an output block
	bt, g, at [][]float32
}

var (
	// winograd2 is F(2×2, 3×3): 16 products for 4 outputs. Every entry is 0, ±1 or ±½, so the
	// transforms round no more than additions do.
	winograd2 = &winogradScheme{m: 2,
		bt: [][]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		g:  [][]float32{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
		at: [][]float32{{1, 1, 1, 0}, {0, 1, -1, -1}},
	}
	// winograd4 is F(4×4, 3×3), on the points 0, ±1, ±2 and ∞: 36 products for 16 outputs. Its
	// entries reach 8 and 1/24, so each transform rounds a little more than an addition does.
	winograd4 = &winogradScheme{m: 4,
		bt: [][]float32{
			{4, 0, -5, 0, 1, 0},
			{0, -4, -4, 1, 1, 0},
			{0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0},
			{0, 2, -1, -2, 1, 0},
			{0, 4, 0, -5, 0, 1},
		},
		g: [][]float32{
			{1.0 / 4, 0, 0},
			{-1.0 / 6, -1.0 / 6, -1.0 / 6},
			{-1.0 / 6, 1.0 / 6, -1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6},
			{1.0 / 24, -1.0 / 12, 1.0 / 6},
			{0, 0, 1},
		},
		at: [][]float32{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	}
)

// winograd is the scheme the model's graphs use: F(4×4, 3×3), fewer products for transforms that
// cost a little more (see the top of this file). Tests switch it to check both.
var winograd = winograd4

// n is the side of an input tile, m+2.
func (w *winogradScheme) n() int { return w.m + 2 }

// positions is the number of positions of a tile, (m+2)²: the products per tile and channel pair.
func (w *winogradScheme) positions() int { return w.n() * w.n() }

// filterMatrix is G⊗G, [n²,9]: transformed filter position (a,b) from tap (u,v). If flipped, tap
// (u,v) reads the filter's tap (2-u,2-v): the 180° rotation of the input gradient, which is G with
// its columns reversed.
func (w *winogradScheme) filterMatrix(flipped bool) *tensors.Tensor {
	if !flipped {
		return kron(w.g)
	}
	g := make([][]float32, len(w.g))
	for a, row := range w.g {
		g[a] = slices.Clone(row)
		slices.Reverse(g[a])
	}
	return kron(g)
}

// transpose returns xᵀ for an r×c matrix x.
func transpose(x [][]float32) [][]float32 {
	t := make([][]float32, len(x[0]))
	for j := range t {
		t[j] = make([]float32, len(x))
		for i, row := range x {
			t[j][i] = row[j]
		}
	}
	return t
}

// separableTransforms selects how transformTiles applies a transform: as two products of the
// r×c matrix, one per side of the tiles, or as one product of its Kronecker square. Separately,
// F(4×4, 3×3)'s input transform costs 264 multiply-adds a tile and channel instead of 484, and
// its output transform 180 instead of 324, but reads and writes the tiles twice. In WebAssembly,
// whose 4-lane products without FMA leave the transforms bound by arithmetic, separable steps
// were 2–5% faster (a team of one 440, 459 images/s against 430, 450; one worker of two 684, 706
// against 650, 684, alternating); natively, where 16-lane FMAs leave them bound by memory, 2–6%
// slower (1,269, 1,316 against 1,353, 1,355). So WebAssembly uses them, and the native build does
// not: its results differ from the browser's already (README.md, "the same numbers").
var separableTransforms = runtime.GOARCH == "wasm"

// transformTiles applies the r×c matrix t to both sides of every c×c tile of x [c², rest]
// (position-major: row i*c+j is position (i,j) of every tile), t·X·tᵀ: [r², rest], row a*r+b.
// That is (t⊗t)·x, one product, or where separableTransforms says so, two: the first contracts
// the tiles' rows, a plain product; the second their columns, a product batched over the first's
// rows, with t repeated once per batch. The sparse kernel skips t's zeros either way.
func transformTiles(t [][]float32, x *Node) *Node {
	g := x.Graph()
	r, c := len(t), len(t[0])
	rest := x.Shape().Size() / (c * c)
	if !separableTransforms {
		return DotGeneral(Const(g, kron(t)), []int{1}, nil, Reshape(x, c*c, rest), []int{0}, nil)
	}
	flat := make([]float32, 0, r*r*c)
	for range r {
		for _, row := range t {
			flat = append(flat, row...)
		}
	}
	rows := DotGeneral(Const(g, t), []int{1}, nil, Reshape(x, c, c*rest), []int{0}, nil) // [r, c·rest]: t·X
	repeated := Const(g, tensors.FromFlatDataAndDimensions(flat, r, r, c))
	both := DotGeneral(repeated, []int{2}, []int{0}, Reshape(rows, r, c, rest), []int{1}, []int{0}) // [r, r, rest]: (t·X)·tᵀ
	return Reshape(both, r*r, rest)
}

// kron is x⊗x for an r×c matrix x, [r·r, c·c]: row (a,b), column (i,j) holds x[a][i]·x[b][j].
func kron(x [][]float32) *tensors.Tensor {
	r, c := len(x), len(x[0])
	m := make([]float32, 0, r*r*c*c)
	for _, xa := range x {
		for _, xb := range x {
			for _, v := range xa {
				for _, w := range xb {
					m = append(m, v*w)
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(m, r*r, c*c)
}

// tiles returns the side of the square grid of m×m output blocks that covers side.
func (w *winogradScheme) tiles(side int) int { return (side + w.m - 1) / w.m }

// tileIndices returns the rows of an input flattened with its pad rows (withPadRows) that make
// the n×n input tiles, position-major: entry (i*n+j)*tiles + t is position (i,j) of tile t
// (image, tile row, tile column), which starts one row and one column before its m×m outputs
// (SAME's pad of 1). Positions outside the image read the pad row, batch*side*side. Shape [N,1].
func (w *winogradScheme) tileIndices(batch, side int) *tensors.Tensor {
	return w.tileRows(batch, side, w.n(), -1)
}

// outputIndices returns, for each output position of each image in row order, its row of the
// transformed-back [m²*tiles, F] output: (p*m+q)*tiles + t for position (m·ty+p, m·tx+q). Rows and
// columns beyond side (the 8th of a 7×7 map) are never picked. Shape [N,1].
func (w *winogradScheme) outputIndices(batch, side int) *tensors.Tensor {
	m, nt := w.m, w.tiles(side)
	tiles := batch * nt * nt
	idx := make([]int32, 0, batch*side*side)
	for b := range batch {
		for y := range side {
			for x := range side {
				t := (b*nt+y/m)*nt + x/m
				idx = append(idx, int32((y%m*m+x%m)*tiles+t))
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// blockIndices returns the rows of an output flattened with zero rows (withPadRows) that
// make each tile's m×m block, position-major: entry (p*m+q)*tiles + t is position
// (m·ty+p, m·tx+q) of tile t, or the zero row past the map's last row or column. Shape [N,1].
func (w *winogradScheme) blockIndices(batch, side int) *tensors.Tensor {
	return w.tileRows(batch, side, w.m, 0)
}

// tileRows returns the rows of a map flattened with its pad rows (withPadRows) at the k×k
// positions of each tile t (image, tile row, tile column), position-major: entry (i*k+j)*tiles + t
// is the row of (m·ty+i+off, m·tx+j+off), or the extra row, batch*side*side, where that lies
// outside the map. Shape [N,1].
func (w *winogradScheme) tileRows(batch, side, k, off int) *tensors.Tensor {
	m, nt := w.m, w.tiles(side)
	tiles := batch * nt * nt
	extra := int32(batch * side * side)
	idx := make([]int32, k*k*tiles)
	for i := range k {
		for j := range k {
			for b := range batch {
				for ty := range nt {
					for tx := range nt {
						t := (b*nt+ty)*nt + tx
						y, x := m*ty+i+off, m*tx+j+off
						row := extra
						if y >= 0 && y < side && x >= 0 && x < side {
							row = int32((b*side+y)*side + x)
						}
						idx[(i*k+j)*tiles+t] = row
					}
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// winogradCorrelate is the 3×3, stride-1, SAME correlation of x [B,S,S,C] by the filter whose
// Winograd transform is u [n²,C,F] (contract = 1) or [n²,F,C] (contract = 2): [B,S,S,F]. v is
// winogradInput(x), or nil to compute it here.
func winogradCorrelate(x, v, u *Node, contract int) *Node {
	g := x.Graph()
	w := winograd
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	positions := w.positions()
	if u.Rank() != 3 || u.Shape().Dimensions[0] != positions || u.Shape().Dimensions[contract] != channels {
		panic(fmt.Sprintf("winogradCorrelate: filter transform %s does not fit input %s", u.Shape(), x.Shape()))
	}
	tiles := batch * w.tiles(side) * w.tiles(side)
	// The n² products [tiles,C]·[C,F] of the transformed tiles and filter.
	if v == nil {
		v = winogradInput(x)
	}
	m := DotGeneral(v, []int{2}, []int{0}, u, []int{contract}, []int{0}) // [n², tiles, F]
	filters := m.Shape().Dimensions[2]
	// Aᵀ m A: each tile's m×m outputs, [m², tiles·F], gathered back into row order and cropped.
	y := transformTiles(w.at, Reshape(m, positions, tiles*filters))
	y = Gather(Reshape(y, w.m*w.m*tiles, filters), Const(g, w.outputIndices(batch, side)))
	return Reshape(y, batch, side, side, filters)
}

// winogradInput is Bᵀ d B of every n×n tile d of x [B,S,S,C], per channel: [n², tiles, C].
func winogradInput(x *Node) *Node {
	g := x.Graph()
	w := winograd
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	tiles := batch * w.tiles(side) * w.tiles(side)
	// The tiles, [n², tiles·C]: padding is an index, of a zero row.
	d := Reshape(Gather(withPadRows(x), Const(g, w.tileIndices(batch, side))), w.positions(), tiles*channels)
	return Reshape(transformTiles(w.bt, d), w.positions(), tiles, channels)
}

// winogradFilterGradient is the gradient of the kernel [3,3,C,F] of a 3×3, stride-1, SAME
// convolution of x [B,S,S,C], from that of its output, dY [B,S,S,F], per virtual shard (images
// bounds[v] to bounds[v+1]-1): [V,3,3,C,F]. v is winogradInput(x) where the forward pass computed
// it in the same graph, else nil.
//
// The forward pass is y_t = Aᵀ[(G g Gᵀ) ⊙ V_t]A for each tile t, so the gradient of the
// transformed filter is Σ_t V_t ⊙ (A dy_t Aᵀ), n² products [C,tiles]·[tiles,F] (as many
// multiply-adds as the forward's), and the kernel's is Gᵀ(that)G. Each virtual shard's product
// runs over its own tiles in order, as shardProducts' do, so any team gets the same bits.
func winogradFilterGradient(x, v, dY *Node, bounds []int) *Node {
	g := x.Graph()
	w := winograd
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	filters := dY.Shape().Dimensions[3]
	perImage := w.tiles(side) * w.tiles(side)
	tiles := batch * perImage
	positions := w.positions()
	if v == nil {
		v = winogradInput(x) // [n², tiles, C]
	}
	// A dy Aᵀ of every tile's m×m block of dY (zero past the crop): [n², tiles, F].
	blocks := Reshape(Gather(withPadRows(dY), Const(g, w.blockIndices(batch, side))), w.m*w.m, tiles*filters)
	z := Reshape(transformTiles(transpose(w.at), blocks), positions, tiles, filters)
	// Σ_t V_t ⊙ Z_t per virtual shard: [n², V, C, F].
	var parts []*Node
	tb := scaled(bounds, perImage)
	shards := len(bounds) - 1
	for s := 0; s < shards; {
		size, n := tb[s+1]-tb[s], 1
		for s+n < shards && tb[s+n+1]-tb[s+n] == size {
			n++
		}
		lo, hi := tb[s], tb[s+n]
		gv, gz := v, z
		if lo != 0 || hi != tiles {
			gv, gz = Slice(v, AxisRange(), AxisRange(lo, hi)), Slice(z, AxisRange(), AxisRange(lo, hi))
		}
		gv, gz = Reshape(gv, positions, n, size, channels), Reshape(gz, positions, n, size, filters)
		parts = append(parts, DotGeneral(gv, []int{2}, []int{0, 1}, gz, []int{2}, []int{0, 1}))
		s += n
	}
	dU := parts[0]
	if len(parts) > 1 {
		dU = Concatenate(parts, 1)
	}
	// Gᵀ dU G per virtual shard: [V, 9, C·F].
	ggT := BroadcastToDims(InsertAxes(Transpose(Const(g, w.filterMatrix(false)), 0, 1), 0), shards, 9, positions)
	dK := DotGeneral(ggT, []int{2}, []int{0}, Reshape(dU, positions, shards, channels*filters), []int{0}, []int{1})
	return Reshape(dK, shards, 3, 3, channels, filters)
}

// winogradFilter is G g Gᵀ of kernel [3,3,C,F] for every channel pair: [n²,C,F]. If flipped, of
// the kernel rotated by 180°, which the input gradient correlates with.
func winogradFilter(kernel *Node, flipped bool) *Node {
	d := kernel.Shape().Dimensions
	if len(d) != 4 || d[0] != 3 || d[1] != 3 {
		panic(fmt.Sprintf("winogradFilter: kernel %s is not 3×3", kernel.Shape()))
	}
	gg := Const(kernel.Graph(), winograd.filterMatrix(flipped))
	return Reshape(DotGeneral(gg, []int{1}, nil, Reshape(kernel, 9, d[2]*d[3]), []int{0}, nil), winograd.positions(), d[2], d[3])
}

// winogradConv is the 3×3, stride-1, TF "SAME" convolution of x [B,S,S,C] by kernel [3,3,C,F],
// without bias, with a hand-written gradient (as matMul's, and for the same reason: GoMLX's
// generic DotGeneral gradient is slow on simplego): winogradInputGradient and
// winogradFilterGradient. It also returns winogradInput(x), which the hand-written backward pass
// of a team of one (convBackward) reuses for the filter gradient.
func winogradConv(x, kernel *Node) (y, v *Node) {
	var dY *Node
	xID := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
		return winogradInputGradient(dY, kernel)
	})
	kID := IdentityWithCustomGradient(kernel, func(_, _ *Node) *Node {
		return Reshape(winogradFilterGradient(x, v, dY, []int{0, x.Shape().Dimensions[0]}), kernel.Shape().Dimensions...)
	})
	v = winogradInput(xID)
	y = winogradCorrelate(xID, v, winogradFilter(kID, false), 1)
	return IdentityWithCustomGradient(y, func(_, g *Node) *Node {
		dY = g
		return g
	}), v
}

// winogradInputGradient is the gradient of a 3×3, stride-1, SAME convolution's input from that of
// its output, dY [B,S,S,F]: the same kind of convolution of dY by the kernel [3,3,C,F] rotated by
// 180° and with C and F swapped, so Winograd again: [B,S,S,C].
func winogradInputGradient(dY, kernel *Node) *Node {
	return winogradCorrelate(dY, nil, winogradFilter(kernel, true), 2)
}
