package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

// TestSameBitsAnyTeam trains the same settings with teams of 1, 2, 3 and 4 workers (1 and 2
// under js/wasm, where a test's time is scarcer), and checks that every team computes the same
// losses, weights and end-of-epoch evaluations, bit for bit: at batch 64, and at 66, which the 4
// virtual shards cut unevenly (17, 17, 16, 16), so that the workers of a team of 3 hold 17, 17 and
// 32 images. 20 steps are enough for any difference in the order of the sums to show: Adam turns
// rounding in nearly-zero gradients into steps of up to the learning rate.
func TestSameBitsAnyTeam(t *testing.T) { sameBitsAnyTeam(t) }

// TestSameBitsAnyTeamOtherConv is TestSameBitsAnyTeam with im2col for the 3×3, stride-1
// convolutions, where Winograd is the default (winogradOn). A build without the kernels runs
// im2col by default and never Winograd, so it skips this test: without the kernels simplego's own
// DotGeneral changes its order of summation with a product's size, and F(4×4, 3×3)'s products for
// conv2 at batch 66 are on one side of that line for one worker and on the other for two
// (kernels/README.md).
func TestSameBitsAnyTeamOtherConv(t *testing.T) {
	if !winogradOn {
		t.Skip("built without the SIMD kernels: TestSameBitsAnyTeam checks im2col already, and Winograd's same bits need the kernels")
	}
	withWinograd(t, false, func() { sameBitsAnyTeam(t) })
}

func sameBitsAnyTeam(t *testing.T) {
	train, test := mnisttest.Sets(t)
	test = test.Slice(0, 3*EvalBatch) // 3 evaluation batches: a team of 2 shares them unevenly
	teams := []int{1, 2, 3, 4}
	if runtime.GOOS == "js" {
		teams = []int{1, 2}
	}
	// Batch 3 has 3 virtual shards: a pair and one alone (gradientPieces), the pair split between
	// two workers of a team of two or three.
	for _, batch := range []int{64, 66, 3} {
		cfg := smallConfig(20 * batch)
		cfg.BatchSize, cfg.LossImages = batch, 2*batch
		if batch != 64 {
			cfg.Filters = [3]int{8, 16, 16} // keeps the test short; the order does not depend on it
		}
		var want teamRun
		for _, n := range teams {
			if n > batch {
				break
			}
			got := trainTeam(t, cfg, train, test, n)
			if t.Failed() {
				return
			}
			if n == teams[0] {
				want = got
				t.Logf("batch %d: losses %v, after the epoch loss %.6f, test accuracy %.3f",
					batch, got.losses, got.result.TrainLoss, got.result.Test.Report.Accuracy)
				continue
			}
			if !slices.Equal(got.losses, want.losses) {
				t.Errorf("batch %d, %d workers: losses %v, 1 worker %v", batch, n, got.losses, want.losses)
			}
			if got.result.TrainLoss != want.result.TrainLoss || got.result.Test.Loss != want.result.Test.Loss ||
				!slices.Equal(got.result.Test.Predictions, want.result.Test.Predictions) {
				t.Errorf("batch %d, %d workers: after the epoch loss %v, test loss %v; 1 worker %v, %v",
					batch, n, got.result.TrainLoss, got.result.Test.Loss, want.result.TrainLoss, want.result.Test.Loss)
			}
			for name, w := range want.weights {
				if i := firstDifference(got.weights[name], w); i >= 0 {
					t.Errorf("batch %d, %d workers: %s[%d] = %v, 1 worker %v", batch, n, name, i, got.weights[name][i], w[i])
				}
			}
		}
	}
}

// teamRun is what a team's training run gives: every replica's, checked equal by trainTeam.
type teamRun struct {
	losses  []float64
	result  EpochResult
	weights map[string][]float32
}

// trainTeam trains cfg with n replicas in goroutines (TrainReplicas; n = 1 trains alone) and
// checks that every replica ends with the same weights.
func trainTeam(tb testing.TB, cfg Config, train, test *mnist.Dataset, n int) teamRun {
	tb.Helper()
	return trainTeamWith(tb, cfg, train, TrainOptions{Test: test}, n)
}

// trainTeamWith is trainTeam with opts (Test, Digits) for every replica.
func trainTeamWith(tb testing.TB, cfg Config, train *mnist.Dataset, opts TrainOptions, n int) teamRun {
	tb.Helper()
	backend, err := GoBackendPerCore()
	if n == 1 {
		backend, err = GoBackend() // what a team of one uses: its matrix products on every core
	}
	if err != nil {
		tb.Fatal(err)
	}
	replicas := make([]*Model, n)
	for i := range replicas {
		if replicas[i], err = New(backend, cfg); err != nil {
			tb.Fatal(err)
		}
	}
	var run teamRun
	opts.OnProgress = func(p Progress) { run.losses = append(run.losses, p.Loss) }
	res, err := TrainReplicas(context.Background(), replicas, train, opts)
	if err != nil {
		tb.Fatal(err)
	}
	run.result = res[0]
	run.weights = make(map[string][]float32)
	for _, p := range cfg.Params() {
		run.weights[p.Name] = flatValue(tb, replicas[0], p.Name)
		for i, r := range replicas[1:] {
			if j := firstDifference(flatValue(tb, r, p.Name), run.weights[p.Name]); j >= 0 {
				tb.Errorf("%d workers: replica %d's %s[%d] differs from replica 0's: replicas drifted apart", n, i+1, p.Name, j)
			}
		}
	}
	return run
}

// firstDifference returns the first index where a and b differ in their bits, or -1.
func firstDifference(a, b []float32) int {
	for i := range min(len(a), len(b)) {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestShardedMatchesWholeBatch trains with a team of 3, and checks that it follows one model
// trained on whole batches by GoMLX's autodiff (the formulation of the evaluation) to float
// rounding, and that evaluations shared among the team equal one replica's alone, bit for bit.
// Against whole-batch training, Adam's sign-like first steps turn rounding in nearly-zero
// gradients (a conv1 filter that almost never fires) into steps of up to the learning rate, so
// the weights, and a few test predictions, drift slightly apart.
func TestShardedMatchesWholeBatch(t *testing.T) {
	train, test := mnisttest.Sets(t)
	test = test.Slice(0, 6*EvalBatch) // evaluation batches for every shard
	cfg := smallConfig(96)
	cfg.Filters = [3]int{8, 16, 16}
	cfg.LossImages = 96

	// Whole batches, by autodiff.
	whole := newTestModel(t, cfg)
	var wantLoss []float64
	exec, err := mlctx.NewExec(whole.backend, whole.ctx, func(ctx *mlctx.Context, images, labels *Node) *Node {
		return whole.stepGraph(images, labels)
	})
	if err != nil {
		t.Fatal(err)
	}
	for s := range cfg.TrainImages / cfg.BatchSize {
		images, labels := shuffledBatch(cfg, train, s)
		out, err := exec.Exec(imageTensor(images), tensors.FromFlatDataAndDimensions(labels, len(labels)))
		if err != nil {
			t.Fatal(err)
		}
		wantLoss = append(wantLoss, float64(scalar(out[0])))
	}
	wantEval, err := whole.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}

	const n = 3
	replicas := []*Model{newTestModel(t, cfg), newTestModel(t, cfg), newTestModel(t, cfg)}
	var losses []float64
	res, err := TrainReplicas(context.Background(), replicas, train, TrainOptions{Test: test,
		OnProgress: func(p Progress) { losses = append(losses, p.Loss) }})
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-5
	for step := range wantLoss {
		if d := math.Abs(losses[step] - wantLoss[step]); d > tol*wantLoss[step] {
			t.Errorf("%d shards, step %d: loss %.7f, whole batch %.7f", n, step+1, losses[step], wantLoss[step])
		}
	}
	got := res[0]
	alone, err := replicas[0].Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	if got.Test.Loss != alone.Loss || !slices.Equal(got.Test.Predictions, alone.Predictions) {
		t.Errorf("%d shards: shared test evaluation loss %v, one replica alone %v (or predictions differ)", n, got.Test.Loss, alone.Loss)
	}
	if math.Abs(got.Test.Report.Accuracy-wantEval.Report.Accuracy) > 0.01 {
		t.Errorf("%d shards: test accuracy %.4f; whole batch %.4f", n, got.Test.Report.Accuracy, wantEval.Report.Accuracy)
	}
	t.Logf("%d shards: losses %v (whole batch %v), test accuracy %.3f (whole batch %.3f)",
		n, losses, wantLoss, got.Test.Report.Accuracy, wantEval.Report.Accuracy)
}

// shuffledBatch returns the images and labels of step s of Train's first epoch.
func shuffledBatch(cfg Config, d *mnist.Dataset, s int) ([]byte, []int32) {
	perm := newShuffler(cfg.Seed, cfg.TrainImages).next()
	pixels := mnist.ImageSize * mnist.ImageSize
	images := make([]byte, 0, cfg.BatchSize*pixels)
	labels := make([]int32, 0, cfg.BatchSize)
	for _, p := range perm[s*cfg.BatchSize : (s+1)*cfg.BatchSize] {
		images = append(images, d.Images[int(p)*pixels:(int(p)+1)*pixels]...)
		labels = append(labels, int32(d.Labels[p]))
	}
	return images, labels
}

// TestShardedEvaluationProgress checks what two shards report during the end-of-epoch
// evaluations: the training loss, then the test set, each counting the team's images up to the
// total. 416 loss images are 3 batches, which two shards share unevenly: shard 1, with one batch,
// ends a batch short; 800 test images are 4 batches, 2 each.
func TestShardedEvaluationProgress(t *testing.T) {
	train, test := mnisttest.Sets(t)
	cfg := smallConfig(416)
	cfg.Filters = [3]int{8, 16, 16}
	cfg.LossImages = 416
	shards, _ := LocalShards(2)
	calls := make([][]string, len(shards))
	var wg sync.WaitGroup
	for i := range shards {
		m := newTestModel(t, cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.Train(context.Background(), train, TrainOptions{Test: test.Slice(0, 4*EvalBatch), Shard: &shards[i],
				OnEvaluating: func(p EvalProgress) {
					calls[i] = append(calls[i], fmt.Sprintf("%s %d/%d epoch %d/%d", p.What, p.Done, p.Total, p.Epoch, p.Epochs))
				}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := [][]string{
		{"loss 278/416 epoch 1/1", "loss 416/416 epoch 1/1", "test 400/800 epoch 1/1", "test 800/800 epoch 1/1"},
		{"loss 278/416 epoch 1/1", "test 400/800 epoch 1/1", "test 800/800 epoch 1/1"},
	}
	for i := range shards {
		if !slices.Equal(calls[i], want[i]) {
			t.Errorf("shard %d reported %q, want %q", i, calls[i], want[i])
		}
	}
}

func flatValue(tb testing.TB, m *Model, name string) []float32 {
	tb.Helper()
	v, err := m.vars[name].Value()
	if err != nil {
		tb.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](v)
}

// TestShardedGradients checks the combined gradients of 1, 2 and 3 shards (31 images: unequal
// virtual shards of 8, 8, 8 and 7) against GoMLX's autodiff of the whole-batch loss. Measured: at most 7e-5 apart (relative
// L2), float32 rounding; a wrong normalisation gradient is off by O(1).
func TestShardedGradients(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	cfg := smallConfig(64)
	cfg.Filters = [3]int{8, 16, 16}
	const batch = 31
	pixels := mnist.ImageSize * mnist.ImageSize
	images, labels := testBatch(train, batch)
	exec := gradientExec(t, newTestModel(t, cfg))
	out, err := exec.Exec(imageTensor(images), tensors.FromFlatDataAndDimensions(labels, batch))
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[string][]float32)
	for i, p := range cfg.Params() {
		want[p.Name] = flat(out[i])
	}
	wantLoss := flat(out[len(out)-1])[0]

	for _, n := range []int{1, 2, 3} {
		shards, _ := LocalShards(n)
		totals := make([][]float32, n)
		var wg sync.WaitGroup
		for i := range n {
			m := newTestModel(t, cfg)
			g, err := m.shardGraphs(&shards[i], batch)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				lo, hi := shards[i].part(batch)
				totals[i], err = m.shardGradients(g, &shards[i], images[lo*pixels:hi*pixels], labels[lo:hi], batch)
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		got := totals[n-1]
		if loss := got[len(got)-1]; math.Abs(float64(loss-wantLoss)) > 1e-5*float64(wantLoss) {
			t.Errorf("%d shards: loss %g, whole batch %g", n, loss, wantLoss)
		}
		offset, worst := 0, 0.0
		for _, p := range cfg.Params() {
			name := p.Name
			w := want[name]
			g := got[offset : offset+len(w)]
			offset += len(w)
			// Whole tensors (L2): a max-pool window whose two largest values differ by a rounding
			// error may route one element's gradient differently; a wrong formula is off everywhere.
			var diff, norm float64
			for j := range w {
				diff += math.Pow(float64(g[j]-w[j]), 2)
				norm += math.Pow(float64(w[j]), 2)
			}
			rel := math.Sqrt(diff / norm)
			worst = max(worst, rel)
			if rel > 2e-4 {
				t.Errorf("%d shards: gradient of %s differs by %.2g (relative L2)", n, name, rel)
			}
		}
		t.Logf("%d shards: largest relative L2 difference %.2g", n, worst)
	}
}

// TestTrainReplicas trains two replicas in goroutines, and checks that one failing replica (here,
// a diverging learning rate) stops both with the cause rather than leaving one waiting forever.
func TestTrainReplicas(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	cfg := smallConfig(128)
	cfg.Filters = [3]int{8, 16, 16}
	replicas := []*Model{newTestModel(t, cfg), newTestModel(t, cfg)}
	var steps int
	res, err := TrainReplicas(context.Background(), replicas, train, TrainOptions{OnProgress: func(Progress) { steps++ }})
	if err != nil || len(res) != 1 || steps != 4 {
		t.Fatalf("TrainReplicas: %d progress reports, %d results, error %v; want 4, 1, nil", steps, len(res), err)
	}

	cfg.LearningRate = 10
	replicas = []*Model{newTestModel(t, cfg), newTestModel(t, cfg)}
	done := make(chan error, 1)
	go func() {
		_, err := TrainReplicas(context.Background(), replicas, train, TrainOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrDiverged) {
			t.Fatalf("diverging replicas returned %v, want ErrDiverged", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a failed replica left the other waiting")
	}
}

func TestLocalShardsAbort(t *testing.T) {
	shards, abort := LocalShards(2)
	got := make(chan error, 1)
	go func() {
		_, err := shards[0].Reduce([]float32{1}, addDisjoint) // shard 1 never arrives
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	abort(errors.New("shard 1 crashed"))
	select {
	case err := <-got:
		if err == nil || err.Error() != "shard 1 crashed" {
			t.Fatalf("Reduce returned %v after abort", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reduce still waiting after abort")
	}
	if _, err := shards[1].Reduce([]float32{1}, addDisjoint); err == nil {
		t.Fatal("Reduce after abort succeeded")
	}
}

// TestSeedAlone checks that the initial weights and the order of the training images depend on
// the seed and nothing else: not the backend's parallelism (a team of one uses every core, a
// team's workers one each), not the model object, not the run. Every worker of a team builds its
// own replica and deals its own order, so this is what keeps them in step.
func TestSeedAlone(t *testing.T) {
	cfg := smallConfig(256)
	cfg.Filters = [3]int{8, 16, 16}
	perCore, err := GoBackendPerCore()
	if err != nil {
		t.Fatal(err)
	}
	a, b := newTestModel(t, cfg), newTestModel(t, cfg)
	c, err := New(perCore, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed++
	other := newTestModel(t, cfg)
	for _, p := range cfg.Params() {
		want := flatValue(t, a, p.Name)
		for i, m := range []*Model{b, c} {
			if j := firstDifference(flatValue(t, m, p.Name), want); j >= 0 {
				t.Errorf("model %d, same seed: %s[%d] differs", i+1, p.Name, j)
			}
		}
		if firstDifference(flatValue(t, other, p.Name), want) < 0 {
			t.Errorf("another seed gave the same %s", p.Name)
		}
	}

	const n = 1000
	s1, s2, s3 := newShuffler(7, n), newShuffler(7, n), newShuffler(8, n)
	for epoch := range 3 {
		o1 := slices.Clone(s1.next())
		if !slices.Equal(o1, s2.next()) {
			t.Errorf("epoch %d: the same seed dealt two orders", epoch+1)
		}
		if slices.Equal(o1, s3.next()) {
			t.Errorf("epoch %d: seeds 7 and 8 dealt the same order", epoch+1)
		}
		if sorted := slices.Sorted(slices.Values(o1)); sorted[0] != 0 || sorted[n-1] != n-1 || len(slices.Compact(sorted)) != n {
			t.Errorf("epoch %d: the order is not a permutation of the %d images", epoch+1, n)
		}
	}
}

// TestFoldMoments checks foldMoments against a two-pass mean and variance over the whole batch:
// a channel far from zero with a small spread (where Σx² - (Σx)²/rows would cancel), a dead
// channel and a constant one (both must normalise to exactly 0: mean exact, M2 0), with the same
// bits however the images are split between shards.
func TestFoldMoments(t *testing.T) {
	const images, positions, channels, eps = 5, 7, 3, 1e-12
	x := make([][]float32, images) // [image][position*channels + channel]
	for i := range x {
		x[i] = make([]float32, positions*channels)
		for p := range positions {
			x[i][p*channels+1] = 3.25
			x[i][p*channels+2] = 1000 + float32(math.Sin(float64(i*positions+p)))
		}
	}
	// Each image's sums and M2s, as imageMoments computes them.
	sums, m2s := make([][]float32, images), make([][]float32, images)
	for i, v := range x {
		sums[i], m2s[i] = make([]float32, channels), make([]float32, channels)
		for c := range channels {
			var s, m2 float64
			for p := range positions {
				s += float64(v[p*channels+c])
			}
			mean := float32(s / positions)
			for p := range positions {
				d := v[p*channels+c] - mean
				m2 += float64(d * d)
			}
			sums[i][c], m2s[i][c] = float32(s), float32(m2)
		}
	}
	part := func(lo, hi int) []float32 {
		var out []float32
		for i := lo; i < hi; i++ {
			out = append(out, sums[i]...)
		}
		for i := lo; i < hi; i++ {
			out = append(out, m2s[i]...)
		}
		return out
	}
	fold := foldMoments(channels, positions, images*positions, eps)
	alone, err := fold([][]float32{part(0, images)})
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range [][]int{{0, 2, images}, {0, 1, 3, images}} {
		var parts [][]float32
		for j := range split[:len(split)-1] {
			parts = append(parts, part(split[j], split[j+1]))
		}
		got, err := fold(parts)
		if err != nil {
			t.Fatal(err)
		}
		if j := firstDifference(got, alone); j >= 0 {
			t.Errorf("split %v: value %d is %v, alone %v", split, j, got[j], alone[j])
		}
	}
	for c := range channels {
		var sum, sq float64
		for _, v := range x {
			for p := range positions {
				sum += float64(v[p*channels+c])
			}
		}
		mean := sum / (images * positions)
		for _, v := range x {
			for p := range positions {
				sq += (float64(v[p*channels+c]) - mean) * (float64(v[p*channels+c]) - mean)
			}
		}
		std := math.Sqrt(sq/(images*positions) + eps)
		gotMean, gotStd := float64(alone[c]), float64(alone[channels+c])
		if c < 2 {
			if gotMean != mean || float32(gotStd) != float32(math.Sqrt(eps)) {
				t.Errorf("channel %d, constant %v: mean %v, std %v; want %v, √ε", c, mean, gotMean, gotStd, mean)
			}
			continue
		}
		if math.Abs(gotMean-mean) > 1e-6*mean || math.Abs(gotStd-std) > 1e-5*std {
			t.Errorf("channel %d: mean %v, std %v; two passes give %v, %v", c, gotMean, gotStd, mean, std)
		}
	}
	if _, err := fold([][]float32{part(0, images-1)}); err == nil {
		t.Error("moments of 4 images folded for 5")
	}
}
