package model

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
)

// withWinograd runs f with winogradOn set to on, and restores it.
func withWinograd(tb testing.TB, on bool, f func()) {
	tb.Helper()
	was := winogradOn
	winogradOn = on
	defer func() { winogradOn = was }()
	f()
}

// winogradSchemes are the schemes every Winograd test checks, by name, with the tolerance of a
// convolution's values against the direct one's, relative to 1 + |value|. F(4×4, 3×3)'s
// transforms multiply by up to 8 (Bᵀ: 5, Aᵀ: 8) and 1/24, so its errors scale with the terms of a
// sum rather than with the sum: on 32 and 64 channels of unit normals (sums of 288 and 576
// terms), they reached 0.9–1.8e-4 where F(2×2, 3×3)'s stayed at 1.2–1.5e-5.
var winogradSchemes = []struct {
	name   string
	scheme *winogradScheme
	tol    float64
}{{"F(2x2,3x3)", winograd2, 1e-4}, {"F(4x4,3x3)", winograd4, 1e-3}}

// winogradTolerance is w's tolerance in winogradSchemes.
func winogradTolerance(w *winogradScheme) float64 {
	for _, sc := range winogradSchemes {
		if sc.scheme == w {
			return sc.tol
		}
	}
	panic("winogradTolerance: a scheme that winogradSchemes does not list")
}

// withScheme runs f with the model's graphs on the Winograd scheme w, and restores it.
func withScheme(w *winogradScheme, f func()) {
	was := winograd
	winograd = w
	defer func() { winograd = was }()
	f()
}

// TestWinogradMatchesReference checks the Winograd convolution of each scheme, forward and both
// gradients, against a direct TF-style conv2d (forward) and the im2col formulation (forward and
// gradients), on sides that leave part of a tile over (7, 5, 1 and 9 against tiles of 2 and 4),
// and on channel counts that fit no tile.
func TestWinogradMatchesReference(t *testing.T) {
	for _, sc := range winogradSchemes {
		forEachTransform(t, sc.name, func(t *testing.T) { withScheme(sc.scheme, func() { testWinogradMatchesReference(t, sc.tol) }) })
	}
}

// forEachTransform runs f as subtests name/kron and name/separable, with separableTransforms
// off and on: the build uses one of them (WebAssembly the separable one), the tests check both.
func forEachTransform(t *testing.T, name string, f func(t *testing.T)) {
	for _, sep := range []bool{false, true} {
		t.Run(name+"/"+map[bool]string{false: "kron", true: "separable"}[sep], func(t *testing.T) {
			was := separableTransforms
			separableTransforms = sep
			defer func() { separableTransforms = was }()
			f(t)
		})
	}
}

func testWinogradMatchesReference(t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(18, 3))
	for _, tc := range []struct{ batch, side, in, out int }{{2, 7, 3, 5}, {3, 8, 4, 2}, {1, 5, 1, 1}, {2, 1, 2, 3}, {1, 9, 2, 3}, {4, 7, 32, 64}} {
		x := randn(rng, tc.batch*tc.side*tc.side*tc.in)
		kernel, bias := randn(rng, 9*tc.in*tc.out), randn(rng, tc.out)
		w := randn(rng, tc.batch*tc.side*tc.side*tc.out)
		exec := MustNewExec(mustBackend(t), func(x, kernel, bias, w *Node) []*Node {
			var out []*Node
			for _, on := range []bool{true, false} {
				withWinograd(t, on, func() {
					y, _ := conv(x, kernel, bias, 3, 1, false)
					out = append(out, y)
					out = append(out, Gradient(ReduceAllSum(Mul(y, w)), x, kernel, bias)...)
				})
			}
			return out
		})
		res := exec.MustExec(
			tensors.FromFlatDataAndDimensions(x, tc.batch, tc.side, tc.side, tc.in),
			tensors.FromFlatDataAndDimensions(kernel, 3, 3, tc.in, tc.out),
			tensors.FromFlatDataAndDimensions(bias, tc.out),
			tensors.FromFlatDataAndDimensions(w, tc.batch, tc.side, tc.side, tc.out))
		want := refConv(x, kernel, bias, tc.batch, tc.side, tc.in, tc.out, 3, 1)
		assertClose(t, "winograd conv", flat(res[0]), want, tol)
		assertClose(t, "im2col conv", flat(res[4]), want, 1e-5)
		for i, what := range []string{"input", "kernel", "bias"} {
			assertClose(t, "winograd "+what+" gradient", flat(res[1+i]), flat(res[5+i]), tol)
		}
	}
}

// TestWinogradTrainingMatchesIm2col checks the hand-written backward pass with each Winograd
// scheme (forward and input gradient of conv2 and conv3) against autodiff through the im2col
// formulation: a few steps of a team of one and of two, then the losses, to float tolerance.
func TestWinogradTrainingMatchesIm2col(t *testing.T) {
	for _, sc := range winogradSchemes {
		forEachTransform(t, sc.name, func(t *testing.T) { withScheme(sc.scheme, func() { testWinogradTrainingMatchesIm2col(t) }) })
	}
}

func testWinogradTrainingMatchesIm2col(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	cfg := smallConfig(4 * 32)
	cfg.Filters = [3]int{8, 16, 16}
	var losses [2][]float64
	for i, on := range []bool{false, true} {
		withWinograd(t, on, func() {
			m := newTestModel(t, cfg)
			for s := range cfg.TrainImages / cfg.BatchSize {
				images, labels := shuffledBatch(cfg, train, s)
				loss, err := m.lockedTrainStep(nil, images, labels, cfg.BatchSize)
				if err != nil {
					t.Fatal(err)
				}
				losses[i] = append(losses[i], loss)
			}
		})
	}
	t.Logf("im2col losses %v, Winograd %v", losses[0], losses[1])
	for s := range losses[0] {
		if d := losses[1][s] - losses[0][s]; d > 1e-4*losses[0][s] || -d > 1e-4*losses[0][s] {
			t.Errorf("step %d: Winograd loss %.7f, im2col %.7f", s+1, losses[1][s], losses[0][s])
		}
	}
}
