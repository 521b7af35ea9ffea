package model

// Winograd minimal filtering F(2×2, 3×3) for the 3×3, stride-1, SAME convolutions (conv2 and
// conv3 of the notebook's network), forward and input gradient.
//
// im2col multiplies every output position by all 9 taps: 9·C·F multiply-adds a position. Winograd
// computes each 2×2 block of outputs from a 4×4 tile of input in a transformed space where the
// convolution is an element-wise product: 16·C·F multiply-adds for 4 positions, 4·C·F each, 2.25×
// fewer. On a 7×7 map the tiles cover 8×8 (7 is odd), so the real saving is 441 against 256
// products per channel pair, 1.72× fewer. The transforms are linear maps over the 16 tile
// positions, written as constant [16,16] (input), [16,9] (filter) and [4,16] (output) matrices
// applied with DotGeneral: its SIMD kernel is much faster in simplego than sixteen strided gathers
// and element-wise adds, and it skips their zeros (kernels/gemm_sparse_simd.go), so that the
// transforms cost a quarter (input) to a half (output) of what a dense [16,16] or [4,16] would.
//
// Layout: the tiles are gathered position-major, [16, tiles, C], so that each transform is one
// plain product over the leading axis and the 16 products [tiles, C]·[C, F] are one DotGeneral
// batched over that axis. The last Gather puts the 2×2 output blocks back in row order and drops
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
)

// winogradOn selects Winograd for every convolution it applies to (see useWinograd) in the
// pure-Go backend's graphs: in WebAssembly, where it made a training step 10–15% faster (the
// matrix kernel has 4 lanes there, so multiply-adds are most of a step), and not natively, where
// it was 20–25% slower (with 16 lanes the products are cheap, and the transforms' packing and
// gathers cost more than the multiply-adds they save), and is still 6–10% slower on two cores
// since the transforms skip their zeros (faster on one core). BENCHMARKS.md has the figures.
// Tests switch it to check both formulations.
var winogradOn = runtime.GOARCH == "wasm"

// useWinograd reports whether a k×k conv with this stride is computed with Winograd: 3×3,
// stride 1, not native (XLA has its own convolutions), and switched on.
func useWinograd(k, stride int, native bool) bool {
	return winogradOn && !native && k == 3 && stride == 1
}

// Transforms of F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2015), for the correlation y[i] = Σₖ d[i+k]·g[k] that TF's conv2d computes: Y = Aᵀ[(G g Gᵀ) ⊙
// (Bᵀ d B)]A. Every entry is 0, ±1 or ±½, so the transforms round no more than additions do.
var (
	winoBT = [][]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoG  = [][]float32{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winoAT = [][]float32{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// winogradInputMatrix is Bᵀ⊗Bᵀ, [16,16]: row (a,b) of the transformed tile from position (i,j).
func winogradInputMatrix() *tensors.Tensor { return kron(winoBT) }

// winogradFilterMatrix is G⊗G, [16,9]: transformed filter position (a,b) from tap (u,v). If
// flipped, tap (u,v) reads the filter's tap (2-u,2-v): the 180° rotation of the input gradient,
// which is G with its columns reversed.
func winogradFilterMatrix(flipped bool) *tensors.Tensor {
	if !flipped {
		return kron(winoG)
	}
	g := make([][]float32, len(winoG))
	for a, row := range winoG {
		g[a] = slices.Clone(row)
		slices.Reverse(g[a])
	}
	return kron(g)
}

// winogradOutputMatrix is Aᵀ⊗Aᵀ, [4,16]: output (p,q) of a tile's 2×2 block from (a,b).
func winogradOutputMatrix() *tensors.Tensor { return kron(winoAT) }

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

// winogradTiles returns the side of the square grid of 2×2 output tiles that covers side.
func winogradTiles(side int) int { return (side + 1) / 2 }

// winogradTileIndices returns the rows of a flattened [batch*side*side (+1 pad row), C] input that
// make the 4×4 input tiles, position-major: entry (i*4+j)*tiles + t is position (i,j) of tile t
// (image, tile row, tile column), which starts one row and one column before its 2×2 outputs
// (SAME's pad of 1). Positions outside the image read the pad row, batch*side*side. Shape [N,1].
func winogradTileIndices(batch, side int) *tensors.Tensor { return tileRows(batch, side, 4, -1) }

// winogradOutputIndices returns, for each output position of each image in row order, its row of
// the transformed-back [4*tiles, F] output: (p*2+q)*tiles + t for position (2ty+p, 2tx+q). Rows
// and columns beyond side (the 8th of a 7×7 map) are never picked. Shape [N,1].
func winogradOutputIndices(batch, side int) *tensors.Tensor {
	nt := winogradTiles(side)
	tiles := batch * nt * nt
	idx := make([]int32, 0, batch*side*side)
	for b := range batch {
		for y := range side {
			for x := range side {
				t := (b*nt+y/2)*nt + x/2
				idx = append(idx, int32((y%2*2+x%2)*tiles+t))
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// winogradCorrelate is the 3×3, stride-1, SAME correlation of x [B,S,S,C] by the filter whose
// Winograd transform is u [16,C,F] (contract = 1) or [16,F,C] (contract = 2): [B,S,S,F]. v is
// winogradInput(x), or nil to compute it here.
func winogradCorrelate(x, v, u *Node, contract int) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	if u.Rank() != 3 || u.Shape().Dimensions[0] != 16 || u.Shape().Dimensions[contract] != channels {
		panic(fmt.Sprintf("winogradCorrelate: filter transform %s does not fit input %s", u.Shape(), x.Shape()))
	}
	tiles := batch * winogradTiles(side) * winogradTiles(side)
	// The 16 products [tiles,C]·[C,F] of the transformed tiles and filter.
	if v == nil {
		v = winogradInput(x)
	}
	m := DotGeneral(v, []int{2}, []int{0}, u, []int{contract}, []int{0}) // [16, tiles, F]
	filters := m.Shape().Dimensions[2]
	// Aᵀ m A: each tile's 2×2 outputs, [4, tiles·F], gathered back into row order and cropped.
	y := DotGeneral(Const(g, winogradOutputMatrix()), []int{1}, nil, Reshape(m, 16, tiles*filters), []int{0}, nil)
	y = Gather(Reshape(y, 4*tiles, filters), Const(g, winogradOutputIndices(batch, side)))
	return Reshape(y, batch, side, side, filters)
}

// winogradInput is Bᵀ d B of every 4×4 tile d of x [B,S,S,C], per channel: [16, tiles, C].
func winogradInput(x *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	tiles := batch * winogradTiles(side) * winogradTiles(side)
	// The tiles, [16, tiles·C]: one extra zero row is the padding, so padding is an index.
	rows := Concatenate([]*Node{Reshape(x, batch*side*side, channels), BroadcastToDims(ScalarZero(g, x.DType()), 1, channels)}, 0)
	d := Reshape(Gather(rows, Const(g, winogradTileIndices(batch, side))), 16, tiles*channels)
	return Reshape(DotGeneral(Const(g, winogradInputMatrix()), []int{1}, nil, d, []int{0}, nil), 16, tiles, channels)
}

// winogradFilterGradient is the gradient of the kernel [3,3,C,F] of a 3×3, stride-1, SAME
// convolution of x [B,S,S,C], from that of its output, dY [B,S,S,F], per virtual shard (images
// bounds[v] to bounds[v+1]-1): [V,3,3,C,F]. v is winogradInput(x) where the forward pass computed
// it in the same graph, else nil.
//
// The forward pass is y_t = Aᵀ[(G g Gᵀ) ⊙ V_t]A for each tile t, so the gradient of the
// transformed filter is Σ_t V_t ⊙ (A dy_t Aᵀ), 16 products [C,tiles]·[tiles,F] (as many
// multiply-adds as the forward's), and the kernel's is Gᵀ(that)G. Each virtual shard's product
// runs over its own tiles in order, as shardProducts' do, so any team gets the same bits.
func winogradFilterGradient(x, v, dY *Node, bounds []int) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, side, channels := dims[0], dims[1], dims[3]
	filters := dY.Shape().Dimensions[3]
	perImage := winogradTiles(side) * winogradTiles(side)
	tiles := batch * perImage
	if v == nil {
		v = winogradInput(x) // [16, tiles, C]
	}
	// A dy Aᵀ of every tile's 2×2 block of dY (zero past the crop): [16, tiles, F].
	rows := Concatenate([]*Node{Reshape(dY, batch*side*side, filters), BroadcastToDims(ScalarZero(g, dY.DType()), 1, filters)}, 0)
	blocks := Reshape(Gather(rows, Const(g, winogradBlockIndices(batch, side))), 4, tiles*filters)
	z := Reshape(DotGeneral(Const(g, winogradOutputMatrix()), []int{0}, nil, blocks, []int{0}, nil), 16, tiles, filters)
	// Σ_t V_t ⊙ Z_t per virtual shard: [16, V, C, F].
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
		gv, gz = Reshape(gv, 16, n, size, channels), Reshape(gz, 16, n, size, filters)
		parts = append(parts, DotGeneral(gv, []int{2}, []int{0, 1}, gz, []int{2}, []int{0, 1}))
		s += n
	}
	dU := parts[0]
	if len(parts) > 1 {
		dU = Concatenate(parts, 1)
	}
	// Gᵀ dU G per virtual shard: [V, 9, C·F].
	ggT := BroadcastToDims(InsertAxes(Transpose(Const(g, winogradFilterMatrix(false)), 0, 1), 0), shards, 9, 16)
	dK := DotGeneral(ggT, []int{2}, []int{0}, Reshape(dU, 16, shards, channels*filters), []int{0}, []int{1})
	return Reshape(dK, shards, 3, 3, channels, filters)
}

// winogradBlockIndices returns the rows of a flattened [batch*side*side (+1 zero row), F] output
// that make each tile's 2×2 block, position-major: entry (p*2+q)*tiles + t is position
// (2ty+p, 2tx+q) of tile t, or the zero row past the map's last row or column. Shape [N,1].
func winogradBlockIndices(batch, side int) *tensors.Tensor { return tileRows(batch, side, 2, 0) }

// tileRows returns the rows of a flattened [batch*side*side (+1 extra row), C] map at the n×n
// positions of each tile t (image, tile row, tile column), position-major: entry (i*n+j)*tiles + t
// is the row of (2ty+i+off, 2tx+j+off), or the extra row, batch*side*side, where that lies
// outside the map. Shape [N,1].
func tileRows(batch, side, n, off int) *tensors.Tensor {
	nt := winogradTiles(side)
	tiles := batch * nt * nt
	extra := int32(batch * side * side)
	idx := make([]int32, n*n*tiles)
	for i := range n {
		for j := range n {
			for b := range batch {
				for ty := range nt {
					for tx := range nt {
						t := (b*nt+ty)*nt + tx
						y, x := 2*ty+i+off, 2*tx+j+off
						row := extra
						if y >= 0 && y < side && x >= 0 && x < side {
							row = int32((b*side+y)*side + x)
						}
						idx[(i*n+j)*tiles+t] = row
					}
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// winogradFilter is G g Gᵀ of kernel [3,3,C,F] for every channel pair: [16,C,F]. If flipped, of
// the kernel rotated by 180°, which the input gradient correlates with.
func winogradFilter(kernel *Node, flipped bool) *Node {
	d := kernel.Shape().Dimensions
	if len(d) != 4 || d[0] != 3 || d[1] != 3 {
		panic(fmt.Sprintf("winogradFilter: kernel %s is not 3×3", kernel.Shape()))
	}
	gg := Const(kernel.Graph(), winogradFilterMatrix(flipped))
	return Reshape(DotGeneral(gg, []int{1}, nil, Reshape(kernel, 9, d[2]*d[3]), []int{0}, nil), 16, d[2], d[3])
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
