//go:build goexperiment.simd

package kernels_test

// These tests run small GoMLX graphs on simplego twice, once with the kernels switched on and
// once with them off (simplego's own executors), and compare the outputs. Each also checks the
// call counter of the kernel family it is about: it must grow on the run with the kernels on,
// where the kernel covers the case (so the fast path was really taken), and stay put on the run
// with them off, and on cases the kernel hands to simplego.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mnist-trainer/mnist/kernels"
)

// The kernel families, as the _simplego files register them.
const (
	familyDot       = "DotGeneral/f32"
	familyBinary    = "Add,Sub,Mul,Div/f32"
	familyBroadcast = "BroadcastInDim"
	familyReduce    = "ReduceSum/f32,f64"
	familyGather    = "Gather/rows"
	familyScatter   = "ScatterSum/f32 rows"
	familySlice     = "Slice"
	familyConvert   = "ConvertDType"
	familySqrt      = "Sqrt"
	familyMax       = "Max/f32 scalar"
	familySign      = "Sign/f32"
	familyCopy      = "Identity,Reshape copies"
	familyPool      = "MaxPool/f32"
)

// Two backends: the model's, whose DotGeneral splits rows among workers, and the model's
// sequential one (parallelism=0), where the kernel runs on one goroutine.
var (
	backendOnce       sync.Once
	parallelBackend   backends.Backend
	sequentialBackend backends.Backend
	backendErr        error
)

// testBackends returns the two simplego backends, made once.
func testBackends(tb testing.TB) (parallel, sequential backends.Backend) {
	tb.Helper()
	backendOnce.Do(func() {
		parallelBackend, backendErr = simplego.New("ops_sequential")
		if backendErr == nil {
			sequentialBackend, backendErr = simplego.New("ops_sequential,parallelism=0")
		}
	})
	if backendErr != nil {
		tb.Fatal(backendErr)
	}
	return parallelBackend, sequentialBackend
}

// defaultBackend is the backend the tests other than DotGeneral's run on.
func defaultBackend(tb testing.TB) backends.Backend {
	tb.Helper()
	b, _ := testBackends(tb)
	return b
}

// graphFn is what every test here builds: one output from any number of inputs.
type graphFn = func(in []*graph.Node) *graph.Node

// runBoth compiles fn on backend and runs it on inputs with the kernels on, then off. The run with
// the kernels on is repeated with the work cut into tiny chunks, and must give the same bits. It fails
// tb, reporting the case as name, unless family's call counter grew on the first run if fast
// (stayed put if not) and stayed put on the second. It returns the two outputs, kernels' first.
func runBoth(tb testing.TB, backend backends.Backend, name, family string, fast bool, fn graphFn,
	inputs ...*tensors.Tensor) (withKernels, generic *tensors.Tensor) {
	tb.Helper()
	tb.Cleanup(func() { kernels.SetEnabled(true) })
	exec := graph.MustNewExec(backend, fn)
	defer exec.Finalize()
	args := make([]any, len(inputs))
	for i, t := range inputs {
		args[i] = t
	}
	run := func(on bool) (*tensors.Tensor, int64) {
		kernels.SetEnabled(on)
		defer kernels.SetEnabled(true)
		before := kernels.Calls(family)
		out := exec.MustExec(args...)
		return out[0], kernels.Calls(family) - before
	}
	withKernels, nOn := run(true)
	// Again cut into chunks of 5 units, so that even these small inputs are split among the
	// backend's workers natively (mid-vector, mid-row): the bits must not change.
	restore := kernels.SetParallelGrain(5)
	split, _ := run(true)
	restore()
	requireExact(tb, name+" (split into small chunks)", split, withKernels)
	generic, nOff := run(false)
	switch {
	case fast && nOn == 0:
		tb.Errorf("%s: %s did not run with the kernels on", name, family)
	case !fast && nOn != 0:
		tb.Errorf("%s: %s ran %d times on a case it should hand to simplego", name, family, nOn)
	}
	if nOff != 0 {
		tb.Errorf("%s: %s ran %d times with the kernels off", name, family, nOff)
	}
	return withKernels, generic
}

// requireExact fails tb unless got and want have the same shape and the same values bit for bit.
// Any NaN matches any NaN: Go leaves NaN payloads unspecified, and which operand's payload an
// instruction propagates is the compiler's choice, in simplego's loops as in the kernels.
func requireExact(tb testing.TB, name string, got, want *tensors.Tensor) {
	tb.Helper()
	if !got.Shape().Equal(want.Shape()) {
		tb.Fatalf("%s: shape %s, want %s", name, got.Shape(), want.Shape())
	}
	switch got.DType() {
	case dtypes.Float32:
		exactSlices(tb, name, tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want),
			func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) })
	case dtypes.Float64:
		exactSlices(tb, name, tensors.MustCopyFlatData[float64](got), tensors.MustCopyFlatData[float64](want),
			func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b) })
	case dtypes.Int32:
		exactSlices(tb, name, tensors.MustCopyFlatData[int32](got), tensors.MustCopyFlatData[int32](want),
			func(a, b int32) bool { return a == b })
	case dtypes.Int64:
		exactSlices(tb, name, tensors.MustCopyFlatData[int64](got), tensors.MustCopyFlatData[int64](want),
			func(a, b int64) bool { return a == b })
	default:
		tb.Fatalf("%s: requireExact does not handle %s", name, got.DType())
	}
}

// exactSlices fails tb at the first i where eq(got[i], want[i]) is false.
func exactSlices[T any](tb testing.TB, name string, got, want []T, eq func(a, b T) bool) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !eq(got[i], want[i]) {
			tb.Fatalf("%s: [%d] = %v, want %v (simplego's own)", name, i, got[i], want[i])
		}
	}
}

// requireNear fails tb unless got and want, float32 results of products that sum k terms each,
// have the same shape and agree within 1e-5·√k relative to 1+|want|. The GEMM kernel fuses
// each multiply-add and sums in another order than simplego, so the last bits differ; with
// inputs in [-2, 2) both stay far closer than this to the exact sum.
func requireNear(tb testing.TB, name string, got, want *tensors.Tensor, k int) {
	tb.Helper()
	if !got.Shape().Equal(want.Shape()) {
		tb.Fatalf("%s: shape %s, want %s", name, got.Shape(), want.Shape())
	}
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	tol := 1e-5 * math.Sqrt(float64(k))
	for i := range g {
		if d := math.Abs(float64(g[i]) - float64(w[i])); !(d <= tol*(1+math.Abs(float64(w[i])))) {
			tb.Fatalf("%s: [%d] = %g, want %g (simplego's own), off by %g", name, i, g[i], w[i], d)
		}
	}
}

// negZero32 is float32 -0.
var negZero32 = float32(math.Copysign(0, -1))

// specials32 are the values randF32 draws one time in eight: signed zeros, subnormals, values
// near 0 and near the ends of the range, infinities and NaN.
var specials32 = []float32{0, negZero32, 1e-40, -1e-40, 1e-30, -1e-30, 3e38, -3e38,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}

// size is the number of elements of a tensor of dimensions dims.
func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// randF32 returns n float32 values in [-2, 2), with specials32 mixed in if special.
func randF32(rng *rand.Rand, n int, special bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		if special && rng.IntN(8) == 0 {
			v[i] = specials32[rng.IntN(len(specials32))]
		} else {
			v[i] = 4*rng.Float32() - 2
		}
	}
	return v
}

// randF32Tensor returns a float32 tensor of dimensions dims from randF32.
func randF32Tensor(rng *rand.Rand, special bool, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(randF32(rng, size(dims), special), dims...)
}

// randF64Tensor returns a float64 tensor of dimensions dims from randF32's values.
func randF64Tensor(rng *rand.Rand, special bool, dims ...int) *tensors.Tensor {
	v32 := randF32(rng, size(dims), special)
	v := make([]float64, len(v32))
	for i, x := range v32 {
		v[i] = float64(x) * (1 + 1e-9*rng.Float64()) // bits that float32 does not have
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// TestFamiliesRegistered proves that the binary under test has every kernel family the other
// tests count calls of, under the names they use.
func TestFamiliesRegistered(t *testing.T) {
	active := kernels.Active()
	for _, f := range []string{familyDot, familyBinary, familyBroadcast, familyReduce, familyGather,
		familyScatter, familySlice, familyConvert, familySqrt, familyMax, familySign, familyCopy, familyPool} {
		if !slices.Contains(active, f) {
			t.Errorf("kernel family %q is not registered (active: %v): run scripts/simd-vendor.sh", f, active)
		}
	}
}

// TestDotGeneralMatchesGeneric proves that the float32 DotGeneral kernel agrees with simplego's
// own on the three rank-2 products of the model (A·B, A·Bᵀ, Aᵀ·B), batched products (batch
// axis first or in the middle), two contracting axes, both backends (workers or not), and on
// sizes around the register tile (4 or 6 rows, 2 vectors of columns) and the 256-step k block;
// and that layouts whose contracting axes do not collapse to one stride go to simplego.
func TestDotGeneralMatchesGeneric(t *testing.T) {
	type form struct {
		name             string
		lhsDims, rhsDims func(m, k, n int) []int
		lc, lb, rc, rb   []int
		kSize            func(k int) int // terms per output element
		fast             func(m, k, n int) bool
	}
	always := func(m, k, n int) bool { return true }
	same := func(k int) int { return k }
	forms := []form{
		{name: "mk.kn", lhsDims: func(m, k, n int) []int { return []int{m, k} },
			rhsDims: func(m, k, n int) []int { return []int{k, n} }, lc: []int{1}, rc: []int{0}, kSize: same, fast: always},
		{name: "mk.nk", lhsDims: func(m, k, n int) []int { return []int{m, k} },
			rhsDims: func(m, k, n int) []int { return []int{n, k} }, lc: []int{1}, rc: []int{1}, kSize: same, fast: always},
		{name: "km.kn", lhsDims: func(m, k, n int) []int { return []int{k, m} },
			rhsDims: func(m, k, n int) []int { return []int{k, n} }, lc: []int{0}, rc: []int{0}, kSize: same, fast: always},
		{name: "bmk.bkn", lhsDims: func(m, k, n int) []int { return []int{3, m, k} },
			rhsDims: func(m, k, n int) []int { return []int{3, k, n} },
			lc:      []int{2}, lb: []int{0}, rc: []int{1}, rb: []int{0}, kSize: same, fast: always},
		{name: "mbk.kbn", lhsDims: func(m, k, n int) []int { return []int{m, 2, k} },
			rhsDims: func(m, k, n int) []int { return []int{k, 2, n} },
			lc:      []int{2}, lb: []int{1}, rc: []int{0}, rb: []int{1}, kSize: same, fast: always},
		{name: "m(2k).(2k)n", lhsDims: func(m, k, n int) []int { return []int{m, 2, k} },
			rhsDims: func(m, k, n int) []int { return []int{2, k, n} }, lc: []int{1, 2}, rc: []int{0, 1},
			kSize: func(k int) int { return 2 * k }, fast: always},
		// Contracting axes 0 and 2 of [2, m, k] are apart in memory unless m or k is 1.
		{name: "2mk.2kn", lhsDims: func(m, k, n int) []int { return []int{2, m, k} },
			rhsDims: func(m, k, n int) []int { return []int{2, k, n} }, lc: []int{0, 2}, rc: []int{0, 1},
			kSize: func(k int) int { return 2 * k }, fast: func(m, k, n int) bool { return m == 1 || k == 1 }},
		// Contracting axes listed against memory order: (2, 1) of [m, 2, k] do not collapse
		// unless k is 1.
		{name: "m2k.k2n", lhsDims: func(m, k, n int) []int { return []int{m, 2, k} },
			rhsDims: func(m, k, n int) []int { return []int{k, 2, n} }, lc: []int{2, 1}, rc: []int{0, 1},
			kSize: func(k int) int { return 2 * k }, fast: func(m, k, n int) bool { return k == 1 }},
	}
	l := kernels.Lanes()
	ms := []int{1, 3, 4, 5, 6, 7, 13, 33}
	ns := []int{1, 3, 2*l - 1, 2 * l, 2*l + 1, 4*l + 1}
	ks := []int{1, 3, 17, 256, 257}
	parallel, sequential := testBackends(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for fi, f := range forms {
		for bi, backend := range []backends.Backend{parallel, sequential} {
			type mkn struct{ m, k, n int }
			var sizes []mkn
			for i, m := range ms {
				for j, n := range ns {
					if fi < 3 { // the model's products: every size
						for _, k := range ks {
							sizes = append(sizes, mkn{m, k, n})
						}
					} else {
						sizes = append(sizes, mkn{m, ks[(i+j+bi)%len(ks)], n})
					}
				}
			}
			// Several k blocks, and enough work for MatMul to split rows among workers.
			sizes = append(sizes, mkn{33, 600, 33})
			for _, s := range sizes {
				name := fmt.Sprintf("%s/backend%d/m%d_k%d_n%d", f.name, bi, s.m, s.k, s.n)
				lhs := randF32Tensor(rng, false, f.lhsDims(s.m, s.k, s.n)...)
				rhs := randF32Tensor(rng, false, f.rhsDims(s.m, s.k, s.n)...)
				fn := func(in []*graph.Node) *graph.Node {
					return graph.DotGeneral(in[0], f.lc, f.lb, in[1], f.rc, f.rb)
				}
				got, want := runBoth(t, backend, name, familyDot, f.fast(s.m, s.k, s.n), fn, lhs, rhs)
				requireNear(t, name, got, want, f.kSize(s.k))
			}
		}
	}
}

// binaryOps are the element-wise ops the binary kernel covers.
var binaryOps = []struct {
	name string
	fn   func(a, b *graph.Node) *graph.Node
}{{"Add", graph.Add}, {"Sub", graph.Sub}, {"Mul", graph.Mul}, {"Div", graph.Div}}

// TestBinaryMatchesGeneric proves that float32 Add, Sub, Mul and Div give simplego's results bit
// for bit, on operands of equal shape, a scalar on either side (a rank-0 constant or input, or
// a size-1 operand), broadcasts along leading, trailing and middle axes, both operands
// broadcast, and on an operand whose buffer the op reuses for its output. The operands mix in
// signed zeros, subnormals, infinities and NaN, so Div meets divisors at and near 0.
func TestBinaryMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	pairs := []struct {
		name     string
		lhs, rhs []int
	}{
		{"same/257", []int{257}, []int{257}},
		{"same/3x17", []int{3, 17}, []int{3, 17}},
		{"same/2x5x7x33", []int{2, 5, 7, 33}, []int{2, 5, 7, 33}},
		{"scalar-input-left", nil, []int{7, 33}},
		{"scalar-input-right", []int{5, 17}, nil},
		{"size1-left", []int{1, 1}, []int{7, 33}},
		{"size1-right", []int{3, 5, 7}, []int{1, 1, 1}},
		{"leading", []int{1, 1, 1, 17}, []int{2, 5, 7, 17}},
		{"leading-rev", []int{3, 4, 5, 33}, []int{1, 1, 1, 33}},
		{"trailing", []int{33, 1}, []int{33, 7}},
		{"trailing-rev", []int{5, 17}, []int{5, 1}},
		{"middle", []int{5, 1, 17}, []int{5, 7, 17}},
		{"middle-rev", []int{3, 7, 33}, []int{3, 1, 33}},
		{"outer", []int{33, 1}, []int{1, 17}},
		{"outer-rev", []int{1, 5}, []int{7, 1}},
		{"mixed", []int{1, 5, 1, 17}, []int{3, 1, 7, 1}},
		{"unit-axes", []int{1, 7, 1, 3}, []int{1, 7, 1, 1}},
		{"zero-size", []int{0, 5}, []int{0, 1}},
	}
	for _, op := range binaryOps {
		for _, p := range pairs {
			name := op.name + "/" + p.name
			a, b := randF32Tensor(rng, true, p.lhs...), randF32Tensor(rng, true, p.rhs...)
			got, want := runBoth(t, backend, name, familyBinary, true,
				func(in []*graph.Node) *graph.Node { return op.fn(in[0], in[1]) }, a, b)
			requireExact(t, name, got, want)
		}
		// Rank-0 constants on either side, among them the special values.
		for i, c := range []float32{0.37, -1.5, 0, negZero32, 1e-40, float32(math.Inf(1))} {
			x := randF32Tensor(rng, true, 5, 33)
			for _, left := range []bool{false, true} {
				name := fmt.Sprintf("%s/const%d/left=%v", op.name, i, left)
				got, want := runBoth(t, backend, name, familyBinary, true, func(in []*graph.Node) *graph.Node {
					k := graph.Const(in[0].Graph(), c)
					if left {
						return op.fn(k, in[0])
					}
					return op.fn(in[0], k)
				}, x)
				requireExact(t, name, got, want)
			}
		}
		// Neg's output is owned by the op that reads it, which then writes its output over it.
		for _, p := range pairs {
			if len(p.lhs) == 0 || len(p.rhs) == 0 {
				continue
			}
			a, b := randF32Tensor(rng, true, p.lhs...), randF32Tensor(rng, true, p.rhs...)
			for _, neg := range []int{0, 1} {
				name := fmt.Sprintf("%s/in-place%d/%s", op.name, neg, p.name)
				got, want := runBoth(t, backend, name, familyBinary, true, func(in []*graph.Node) *graph.Node {
					x, y := in[0], in[1]
					if neg == 0 {
						x = graph.Neg(x)
					} else {
						y = graph.Neg(y)
					}
					return op.fn(x, y)
				}, a, b)
				requireExact(t, name, got, want)
			}
		}
	}
	// Other dtypes are simplego's.
	a := tensors.FromFlatDataAndDimensions([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensors.FromFlatDataAndDimensions([]float64{7, 8, 9}, 1, 3)
	got, want := runBoth(t, backend, "Div/float64", familyBinary, false,
		func(in []*graph.Node) *graph.Node { return graph.Div(in[0], in[1]) }, a, b)
	requireExact(t, "Div/float64", got, want)
}

// TestBroadcastInDimMatchesGeneric proves that BroadcastInDim gives simplego's results bit for
// bit in float32 and float64, from BroadcastToDims, BroadcastPrefix and ExpandAndBroadcast,
// for scalars, leading, trailing and middle broadcasts, zero (and -0) values, and a zero-size
// output; and that other dtypes go to simplego.
func TestBroadcastInDimMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name string
		in   []int
		fn   func(x *graph.Node) *graph.Node
	}{
		{"rows", []int{1, 17}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 33, 17) }},
		{"cols", []int{33, 1}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 33, 17) }},
		{"scalar", nil, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 7, 33) }},
		{"size1", []int{1, 1}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 5, 3) }},
		{"mixed", []int{1, 5, 1, 3}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 2, 5, 7, 3) }},
		{"append", []int{257}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 257, 3) }},
		{"prefix", []int{17}, func(x *graph.Node) *graph.Node { return graph.BroadcastPrefix(x, 3, 5) }},
		{"prefix-wide", []int{3, 33}, func(x *graph.Node) *graph.Node { return graph.BroadcastPrefix(x, 2) }},
		{"expand-middle", []int{5, 17}, func(x *graph.Node) *graph.Node {
			return graph.ExpandAndBroadcast(x, []int{5, 7, 17}, []int{1})
		}},
		{"expand-and-grow", []int{5, 1}, func(x *graph.Node) *graph.Node {
			return graph.ExpandAndBroadcast(x, []int{5, 3, 7}, []int{1})
		}},
		{"identity", []int{3, 7}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 3, 7) }},
		{"zero-size", []int{1, 5}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 0, 5) }},
	}
	for _, c := range cases {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			x := randF32Tensor(rng, true, c.in...)
			if dtype == dtypes.Float64 {
				x = randF64Tensor(rng, true, c.in...)
			}
			name := fmt.Sprintf("%s/%s", c.name, dtype)
			got, want := runBoth(t, backend, name, familyBroadcast, true,
				func(in []*graph.Node) *graph.Node { return c.fn(in[0]) }, x)
			requireExact(t, name, got, want)
		}
	}
	// Scalars 0 and -0, broadcast (the kernel clears runs of zeros).
	for _, v := range []float32{0, negZero32} {
		x := tensors.FromFlatDataAndDimensions([]float32{v})
		got, want := runBoth(t, backend, fmt.Sprintf("zeros/%v", v), familyBroadcast, true,
			func(in []*graph.Node) *graph.Node { return graph.BroadcastToDims(in[0], 5, 33) }, x)
		requireExact(t, fmt.Sprintf("zeros/%v", v), got, want)
		x = tensors.FromFlatDataAndDimensions([]float32{v, 1, v}, 3, 1)
		got, want = runBoth(t, backend, fmt.Sprintf("zero-rows/%v", v), familyBroadcast, true,
			func(in []*graph.Node) *graph.Node { return graph.BroadcastToDims(in[0], 3, 33) }, x)
		requireExact(t, fmt.Sprintf("zero-rows/%v", v), got, want)
	}
	x := tensors.FromFlatDataAndDimensions([]int32{1, 2, 3}, 3)
	got, want := runBoth(t, backend, "int32", familyBroadcast, false,
		func(in []*graph.Node) *graph.Node { return graph.BroadcastPrefix(in[0], 4) }, x)
	requireExact(t, "int32", got, want)
}

// TestReduceSumMatchesGeneric proves that ReduceSum gives simplego's results bit for bit in
// float32 and float64 over every run of consecutive axes (leading, middle, trailing, all, axes
// of size 1), including inputs whose sums are -0; and that non-consecutive axes go to simplego.
// The kernel adds the reduced rows in simplego's order, so no tolerance is needed.
func TestReduceSumMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := [][]int{{257}, {5, 7, 17}, {3, 1, 33, 5}, {2, 3, 5, 7}, {4, 40}}
	for _, dims := range shapes {
		rank := len(dims)
		for mask := 1; mask < 1<<rank; mask++ {
			var axes []int
			for a := range rank {
				if mask&(1<<a) != 0 {
					axes = append(axes, a)
				}
			}
			consecutive := axes[len(axes)-1]-axes[0] == len(axes)-1
			for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
				x := randF32Tensor(rng, true, dims...)
				if dtype == dtypes.Float64 {
					x = randF64Tensor(rng, true, dims...)
				}
				name := fmt.Sprintf("%v/axes%v/%s", dims, axes, dtype)
				got, want := runBoth(t, backend, name, familyReduce, consecutive,
					func(in []*graph.Node) *graph.Node { return graph.ReduceSum(in[0], axes...) }, x)
				requireExact(t, name, got, want)
			}
		}
	}
	// No axes: all of them.
	x := randF32Tensor(rng, false, 3, 5, 17)
	got, want := runBoth(t, backend, "all", familyReduce, true,
		func(in []*graph.Node) *graph.Node { return graph.ReduceSum(in[0]) }, x)
	requireExact(t, "all", got, want)
	// Sums of -0 alone: simplego starts from +0, so its sum is +0.
	for _, axes := range [][]int{{0}, {1}, {2}, {0, 1}} {
		nz := make([]float32, 3*5*17)
		for i := range nz {
			nz[i] = negZero32
		}
		x := tensors.FromFlatDataAndDimensions(nz, 3, 5, 17)
		got, want := runBoth(t, backend, fmt.Sprintf("-0/axes%v", axes), familyReduce, true,
			func(in []*graph.Node) *graph.Node { return graph.ReduceSum(in[0], axes...) }, x)
		requireExact(t, fmt.Sprintf("-0/axes%v", axes), got, want)
	}
	// Other dtypes are simplego's.
	xi := tensors.FromFlatDataAndDimensions([]int32{1, 2, 3, 4, 5, 6}, 2, 3)
	got, want = runBoth(t, backend, "int32", familyReduce, false,
		func(in []*graph.Node) *graph.Node { return graph.ReduceSum(in[0], 0) }, xi)
	requireExact(t, "int32", got, want)
}

// randIndices returns an int32 tensor [n, 1] of row indices drawn from [lo, hi): repeated, and
// out of [0, rows) where lo < 0 or hi > rows.
func randIndices(rng *rand.Rand, n, lo, hi int) (*tensors.Tensor, []int32) {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(lo + rng.IntN(hi-lo))
	}
	return tensors.FromFlatDataAndDimensions(idx, n, 1), idx
}

// TestGatherMatchesGeneric proves that a Gather of rows ([R, C] operand, int32 [N, 1] indices)
// gives simplego's results bit for bit in float32 and float64, with repeated indices and with
// indices out of range, which both clamp into [0, R); and that other Gathers go to simplego.
func TestGatherMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(11, 12))
	gather := func(in []*graph.Node) *graph.Node { return graph.Gather(in[0], in[1]) }
	for _, rows := range []int{1, 5, 17} {
		for _, cols := range []int{1, 3, 17, 33} {
			for _, n := range []int{1, 7, 33} {
				idx, _ := randIndices(rng, n, -3, rows+3)
				for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
					x := randF32Tensor(rng, true, rows, cols)
					if dtype == dtypes.Float64 {
						x = randF64Tensor(rng, true, rows, cols)
					}
					name := fmt.Sprintf("r%d_c%d_n%d/%s", rows, cols, n, dtype)
					got, want := runBoth(t, backend, name, familyGather, true, gather, x, idx)
					requireExact(t, name, got, want)
				}
			}
		}
	}
	idx, _ := randIndices(rng, 9, -2, 6)
	// An int32 operand, int64 indices, a rank-3 operand: simplego's.
	xi := tensors.FromFlatDataAndDimensions([]int32{1, 2, 3, 4, 5, 6, 7, 8}, 4, 2)
	got, want := runBoth(t, backend, "int32-operand", familyGather, false, gather, xi, idx)
	requireExact(t, "int32-operand", got, want)
	idx64 := tensors.FromFlatDataAndDimensions([]int64{3, 0, 3, -1, 9}, 5, 1)
	got, want = runBoth(t, backend, "int64-indices", familyGather, false, gather, randF32Tensor(rng, false, 4, 3), idx64)
	requireExact(t, "int64-indices", got, want)
	got, want = runBoth(t, backend, "rank3-operand", familyGather, false, gather, randF32Tensor(rng, false, 4, 3, 5), idx)
	requireExact(t, "rank3-operand", got, want)
}

// TestScatterSumMatchesGeneric proves that a row ScatterSum (float32 [R, C] operand, int32
// [N, 1] indices, [N, C] updates) gives simplego's results bit for bit with repeated indices,
// both called directly and as the gradient of a row Gather; and that out-of-range indices are
// skipped, as XLA specifies (simplego's own executor fails on them, so the kernel is checked
// against a sum written here).
func TestScatterSumMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(13, 14))
	scatter := func(in []*graph.Node) *graph.Node { return graph.ScatterSum(in[0], in[1], in[2], false, false) }
	gatherGrad := func(in []*graph.Node) *graph.Node {
		x, idx, w := in[0], in[1], in[2]
		loss := graph.ReduceAllSum(graph.Mul(graph.Gather(x, idx), w))
		return graph.Gradient(loss, x)[0]
	}
	for _, rows := range []int{1, 5, 17} {
		for _, cols := range []int{1, 3, 17, 33} {
			for _, n := range []int{1, 7, 40} {
				idx, _ := randIndices(rng, n, 0, rows)
				x := randF32Tensor(rng, false, rows, cols)
				updates := randF32Tensor(rng, false, n, cols)
				name := fmt.Sprintf("r%d_c%d_n%d", rows, cols, n)
				got, want := runBoth(t, backend, name, familyScatter, true, scatter, x, idx, updates)
				requireExact(t, name, got, want)
				got, want = runBoth(t, backend, name+"/gradient", familyScatter, true, gatherGrad, x, idx, updates)
				requireExact(t, name+"/gradient", got, want)
			}
		}
	}

	// Out-of-range indices, with the kernels only.
	t.Cleanup(func() { kernels.SetEnabled(true) })
	kernels.SetEnabled(true)
	exec := graph.MustNewExec(backend, scatter)
	defer exec.Finalize()
	for _, cols := range []int{1, 3, 17, 33} {
		const rows, n = 5, 33
		idxT, idx := randIndices(rng, n, -3, rows+3)
		base, upd := randF32(rng, rows*cols, false), randF32(rng, n*cols, false)
		before := kernels.Calls(familyScatter)
		got := tensors.MustCopyFlatData[float32](exec.MustExec(tensors.FromFlatDataAndDimensions(base, rows, cols),
			idxT, tensors.FromFlatDataAndDimensions(upd, n, cols))[0])
		if kernels.Calls(familyScatter) == before {
			t.Errorf("out-of-range/c%d: the kernel did not run", cols)
		}
		want := slices.Clone(base)
		for i, r := range idx {
			if r < 0 || int(r) >= rows {
				continue
			}
			for j := range cols {
				want[int(r)*cols+j] += upd[i*cols+j]
			}
		}
		exactSlices(t, fmt.Sprintf("out-of-range/c%d", cols), got, want,
			func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
	}

	// Float64 is simplego's.
	idx, _ := randIndices(rng, 6, 0, 4)
	got, want := runBoth(t, backend, "float64", familyScatter, false, scatter, randF64Tensor(rng, false, 4, 3), idx,
		randF64Tensor(rng, false, 6, 3))
	requireExact(t, "float64", got, want)
}

// TestSliceMatchesGeneric proves that unit-stride Slices give simplego's results bit for bit,
// on ranks 1 to 4, prefixes, suffixes, middle ranges, single elements and whole axes, in
// float32, float64 and int32; and that strided and empty slices go to simplego.
func TestSliceMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(15, 16))
	r, e, end := graph.AxisRange, graph.AxisElem, graph.AxisRangeToEnd
	cases := []struct {
		dims []int
		spec []graph.SliceAxisSpec
		fast bool
	}{
		{[]int{257}, []graph.SliceAxisSpec{r(0, 17)}, true},
		{[]int{257}, []graph.SliceAxisSpec{r(5, 250)}, true},
		{[]int{257}, []graph.SliceAxisSpec{end(3)}, true},
		{[]int{257}, []graph.SliceAxisSpec{r()}, true},
		{[]int{257}, []graph.SliceAxisSpec{r().Stride(3)}, false},
		{[]int{33, 17}, []graph.SliceAxisSpec{r(0, 5)}, true},
		{[]int{33, 17}, []graph.SliceAxisSpec{r(), r(3, 10)}, true},
		{[]int{33, 17}, []graph.SliceAxisSpec{r(1, 32), r(0, 16)}, true},
		{[]int{33, 17}, []graph.SliceAxisSpec{e(7)}, true},
		{[]int{33, 17}, []graph.SliceAxisSpec{r(), e(16)}, true},
		{[]int{33, 17}, []graph.SliceAxisSpec{r(2, 30).Stride(2), r(1, 4)}, false},
		{[]int{5, 7, 17}, []graph.SliceAxisSpec{r(1, 4), r(), r(2, 15)}, true},
		{[]int{5, 7, 17}, []graph.SliceAxisSpec{r(), r(3, 4)}, true},
		{[]int{5, 7, 17}, []graph.SliceAxisSpec{r(0, 5), r(0, 7), r(0, 17)}, true},
		{[]int{5, 7, 17}, []graph.SliceAxisSpec{r(), r(), r().Stride(2)}, false},
		{[]int{3, 5, 7, 9}, []graph.SliceAxisSpec{r(1, 2), r(0, 5), r(2, 7), r(0, 9)}, true},
		{[]int{3, 5, 7, 9}, []graph.SliceAxisSpec{r(), r(1, 4), r(), r(8, 9)}, true},
		{[]int{3, 5, 7, 9}, []graph.SliceAxisSpec{end(1), end(4), end(6), end(1)}, true},
		{[]int{3, 5, 7, 9}, []graph.SliceAxisSpec{r(), r().Stride(2), r(1, 6), r()}, false},
		{[]int{4, 3}, []graph.SliceAxisSpec{r(1, 1)}, false},
	}
	for _, c := range cases {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64, dtypes.Int32} {
			var x *tensors.Tensor
			switch dtype {
			case dtypes.Float32:
				x = randF32Tensor(rng, true, c.dims...)
			case dtypes.Float64:
				x = randF64Tensor(rng, true, c.dims...)
			default:
				v := make([]int32, size(c.dims))
				for i := range v {
					v[i] = rng.Int32() - math.MaxInt32/2
				}
				x = tensors.FromFlatDataAndDimensions(v, c.dims...)
			}
			name := fmt.Sprintf("%v/%v/%s", c.dims, c.spec, dtype)
			got, want := runBoth(t, backend, name, familySlice, c.fast,
				func(in []*graph.Node) *graph.Node { return graph.Slice(in[0], c.spec...) }, x)
			requireExact(t, name, got, want)
		}
	}
}

// TestConvertMatchesGeneric proves that ConvertDType gives simplego's values bit for bit from
// bool (the ReLU's mask: GreaterThan, then the conversion), uint8 (the images), float32 and
// float64 (with specials: signed zeros, subnormals, values that round, ±Inf, NaN) to float32 and
// float64, on sizes around the vector width; and that other conversions go to simplego.
func TestConvertMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(19, 20))
	for _, dims := range [][]int{{1}, {15}, {17}, {3, 33}, {2, 5, 67}} {
		for _, to := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			name := fmt.Sprintf("%v/bool-%s", dims, to)
			got, want := runBoth(t, backend, name, familyConvert, true, func(in []*graph.Node) *graph.Node {
				return graph.ConvertDType(graph.GreaterThan(in[0], graph.ScalarZero(in[0].Graph(), dtypes.Float32)), to)
			}, randF32Tensor(rng, true, dims...))
			requireExact(t, name, got, want)

			bytes := make([]uint8, size(dims))
			for i := range bytes {
				bytes[i] = uint8(rng.IntN(256))
			}
			name = fmt.Sprintf("%v/uint8-%s", dims, to)
			got, want = runBoth(t, backend, name, familyConvert, true,
				func(in []*graph.Node) *graph.Node { return graph.ConvertDType(in[0], to) },
				tensors.FromFlatDataAndDimensions(bytes, dims...))
			requireExact(t, name, got, want)

			for _, x := range []*tensors.Tensor{randF32Tensor(rng, true, dims...), randF64Tensor(rng, true, dims...)} {
				name = fmt.Sprintf("%v/%s-%s", dims, x.DType(), to)
				fast := x.DType() != to // a conversion to the same dtype is no op in the graph
				got, want = runBoth(t, backend, name, familyConvert, fast,
					func(in []*graph.Node) *graph.Node { return graph.ConvertDType(in[0], to) }, x)
				requireExact(t, name, got, want)
			}
		}
	}
	// To int32 is simplego's.
	got, want := runBoth(t, backend, "int32", familyConvert, false,
		func(in []*graph.Node) *graph.Node { return graph.ConvertDType(in[0], dtypes.Int32) }, randF32Tensor(rng, false, 5, 17))
	requireExact(t, "int32", got, want)
}

// TestSqrtMatchesGeneric proves that Sqrt gives simplego's values bit for bit in float32 and
// float64, on sizes around the vector width, with negatives (NaN), signed zeros, subnormals and
// infinities among them.
func TestSqrtMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, dims := range [][]int{{1}, {15}, {17}, {3, 33}, {2, 5, 67}} {
		for _, x := range []*tensors.Tensor{randF32Tensor(rng, true, dims...), randF64Tensor(rng, true, dims...)} {
			name := fmt.Sprintf("%v/%s", dims, x.DType())
			got, want := runBoth(t, backend, name, familySqrt, true,
				func(in []*graph.Node) *graph.Node { return graph.Sqrt(in[0]) }, x)
			requireExact(t, name, got, want)
		}
	}
}

// TestMaxMatchesGeneric proves that Max of float32 values and one value gives simplego's results
// bit for bit (Go's max: NaN wins, -0 is below +0), with the value on either side, on sizes around
// the vector width, NaN, signed zeros, subnormals and infinities among the values; and that a NaN
// or -0 value, two tensors, or float64 go to simplego.
func TestMaxMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(25, 26))
	maxWith := func(c float64, left bool) graphFn {
		return func(in []*graph.Node) *graph.Node {
			v := graph.Scalar(in[0].Graph(), in[0].DType(), c)
			if left {
				return graph.Max(v, in[0])
			}
			return graph.Max(in[0], v)
		}
	}
	for _, dims := range [][]int{{1}, {15}, {17}, {3, 33}, {2, 5, 67}} {
		v := randF32(rng, size(dims), true)
		x := tensors.FromFlatDataAndDimensions(v, dims...)
		for _, c := range []float64{0, 0.5, -1, float64(v[len(v)/2]), math.Inf(-1)} {
			if c != c || (c == 0 && math.Signbit(c)) {
				continue // a value the kernel leaves to simplego, checked below
			}
			for _, left := range []bool{false, true} {
				name := fmt.Sprintf("%v/max(x, %v)/left=%v", dims, c, left)
				got, want := runBoth(t, backend, name, familyMax, true, maxWith(c, left), x)
				requireExact(t, name, got, want)
			}
		}
	}
	x := randF32Tensor(rng, true, 3, 33)
	for _, c := range []float64{math.NaN(), math.Copysign(0, -1)} {
		name := fmt.Sprintf("max(x, %v)", c)
		got, want := runBoth(t, backend, name, familyMax, false, maxWith(c, false), x)
		requireExact(t, name, got, want)
	}
	got, want := runBoth(t, backend, "tensors", familyMax, false,
		func(in []*graph.Node) *graph.Node { return graph.Max(in[0], in[1]) }, x, randF32Tensor(rng, true, 3, 33))
	requireExact(t, "tensors", got, want)
	got, want = runBoth(t, backend, "float64", familyMax, false, maxWith(0, false), randF64Tensor(rng, true, 3, 33))
	requireExact(t, "float64", got, want)
}

// TestSignMatchesGeneric proves that Sign gives simplego's float32 results bit for bit (+0 for
// zeros and NaN), on sizes around the vector width, with specials among the values; and that
// float64 goes to simplego.
func TestSignMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(27, 28))
	sign := func(in []*graph.Node) *graph.Node { return graph.Sign(in[0]) }
	for _, dims := range [][]int{{1}, {15}, {17}, {3, 33}, {2, 5, 67}} {
		name := fmt.Sprint(dims)
		got, want := runBoth(t, backend, name, familySign, true, sign, randF32Tensor(rng, true, dims...))
		requireExact(t, name, got, want)
	}
	got, want := runBoth(t, backend, "float64", familySign, false, sign, randF64Tensor(rng, true, 3, 33))
	requireExact(t, "float64", got, want)
}

// TestCopiesMatchGeneric proves that Identity and Reshape of an input still in use (a parameter
// of the graph) copy it exactly, in float32, float64 and int32.
func TestCopiesMatchGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(23, 24))
	ints := make([]int32, 5*67)
	for i := range ints {
		ints[i] = rng.Int32()
	}
	for _, x := range []*tensors.Tensor{randF32Tensor(rng, true, 5, 67), randF64Tensor(rng, true, 5, 67),
		tensors.FromFlatDataAndDimensions(ints, 5, 67)} {
		name := fmt.Sprintf("identity/%s", x.DType())
		got, want := runBoth(t, backend, name, familyCopy, true,
			func(in []*graph.Node) *graph.Node { return graph.Identity(in[0]) }, x)
		requireExact(t, name, got, want)
		name = fmt.Sprintf("reshape/%s", x.DType())
		got, want = runBoth(t, backend, name, familyCopy, true,
			func(in []*graph.Node) *graph.Node { return graph.Reshape(in[0], 67, 5) }, x)
		requireExact(t, name, got, want)
	}
}
