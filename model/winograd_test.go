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

// TestWinogradMatchesReference checks the Winograd convolution, forward and both gradients,
// against a direct TF-style conv2d (forward) and the im2col formulation (forward and gradients),
// on odd and even sides (7 leaves half a tile over) and on channel counts that fit no tile.
func TestWinogradMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 3))
	for _, tc := range []struct{ batch, side, in, out int }{{2, 7, 3, 5}, {3, 8, 4, 2}, {1, 5, 1, 1}, {2, 1, 2, 3}, {4, 7, 32, 64}} {
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
		assertClose(t, "winograd conv", flat(res[0]), want, 1e-4)
		assertClose(t, "im2col conv", flat(res[4]), want, 1e-5)
		for i, what := range []string{"input", "kernel", "bias"} {
			assertClose(t, "winograd "+what+" gradient", flat(res[1+i]), flat(res[5+i]), 1e-4)
		}
	}
}

// TestWinogradTrainingMatchesIm2col checks the hand-written backward pass with Winograd (forward
// and input gradient of conv2 and conv3) against autodiff through the im2col formulation: a few
// steps of a team of one and of two, then the losses, to float tolerance.
func TestWinogradTrainingMatchesIm2col(t *testing.T) {
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
