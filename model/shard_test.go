package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestShardedStepMatchesWholeBatch trains replicas on shards of each batch, as browser workers do,
// and checks that they follow one model trained on whole batches to float rounding, and stay
// bit-identical to each other. Measured: the step losses agree to 2e-7 with three shards.
func TestShardedStepMatchesWholeBatch(t *testing.T) {
	train, test := loadTestData(t)
	test = test.Slice(0, 6*EvalBatch) // evaluation batches for every shard
	cfg := smallConfig(96)
	cfg.Filters = [3]int{8, 16, 16}
	cfg.LossImages = 96
	run := func(m *Model, shard *Shard) ([]float64, []EpochResult) {
		var losses []float64
		res, err := m.Train(context.Background(), train, TrainOptions{Test: test, Shard: shard,
			OnProgress: func(p Progress) { losses = append(losses, p.Loss) }})
		if err != nil {
			t.Error(err)
		}
		return losses, res
	}
	wantLoss, wantRes := run(newTestModel(t, cfg), nil)

	for _, n := range []int{1, 3} {
		shards, _ := LocalShards(n)
		replicas := make([]*Model, n)
		losses := make([][]float64, n)
		results := make([][]EpochResult, n)
		var wg sync.WaitGroup
		for i := range n {
			replicas[i] = newTestModel(t, cfg)
			wg.Add(1)
			go func() {
				defer wg.Done()
				losses[i], results[i] = run(replicas[i], &shards[i])
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		const tol = 1e-5
		for step := range wantLoss {
			if d := math.Abs(losses[0][step] - wantLoss[step]); d > tol*wantLoss[step] {
				t.Errorf("%d shards, step %d: loss %.7f, whole batch %.7f", n, step+1, losses[0][step], wantLoss[step])
			}
		}
		// The end-of-epoch evaluations, shared among the shards, equal one model evaluating alone.
		got, want := results[0][0], wantRes[0]
		alone, err := replicas[0].Evaluate(test)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Test.Loss-alone.Loss) > 1e-6*alone.Loss {
			t.Errorf("%d shards: shared test evaluation loss %.7f, one replica alone %.7f", n, got.Test.Loss, alone.Loss)
		}
		for i := range alone.Predictions {
			if got.Test.Predictions[i] != alone.Predictions[i] {
				t.Fatalf("%d shards: test image %d: shared evaluation predicts %d, one replica alone %d",
					n, i, got.Test.Predictions[i], alone.Predictions[i])
			}
		}
		// Against whole-batch training, Adam's sign-like first steps turn rounding in nearly-zero
		// gradients (a conv1 filter that almost never fires) into steps of up to the learning rate,
		// so the weights, and a few test predictions, drift slightly apart.
		if math.Abs(got.TrainLoss-want.TrainLoss) > 1e-3*want.TrainLoss ||
			math.Abs(got.Test.Report.Accuracy-want.Test.Report.Accuracy) > 0.01 {
			t.Errorf("%d shards: after the epoch, loss %.5f and test accuracy %.4f; whole batch %.5f and %.4f",
				n, got.TrainLoss, got.Test.Report.Accuracy, want.TrainLoss, want.Test.Report.Accuracy)
		}
		for i := 1; i < n; i++ {
			if results[i][0].TrainLoss != got.TrainLoss || losses[i][len(losses[i])-1] != losses[0][len(losses[0])-1] {
				t.Errorf("shard %d reports other results than shard 0", i)
			}
			for _, p := range cfg.Params() {
				a, b := flatValue(t, replicas[0], p.Name), flatValue(t, replicas[i], p.Name)
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("replica %d's %s[%d] = %v, replica 0's %v: replicas drifted apart", i, p.Name, j, b[j], a[j])
					}
				}
			}
		}
		t.Logf("%d shards: losses %v (whole batch %v), test accuracy %.3f", n, losses[0], wantLoss, got.Test.Report.Accuracy)
	}
}

// TestShardedEvaluationProgress checks what two shards report during the end-of-epoch
// evaluations: the training loss, then the test set, each counting the team's images up to the
// total. 416 loss images are 3 batches, which two shards share unevenly: shard 1, with one batch,
// ends a batch short; 800 test images are 4 batches, 2 each.
func TestShardedEvaluationProgress(t *testing.T) {
	train, test := loadTestData(t)
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

// TestShardedGradients checks the summed gradients of 1, 2 and 3 shards (31 images: unequal
// shards) against GoMLX's autodiff of the whole-batch loss. Measured: at most 7e-5 apart (relative
// L2), float32 rounding; a wrong normalisation gradient is off by O(1).
func TestShardedGradients(t *testing.T) {
	train, _ := loadTestData(t)
	cfg := smallConfig(64)
	cfg.Filters = [3]int{8, 16, 16}
	const batch = 31
	pixels := ImageSize * ImageSize
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
			g, err := m.shardGraphs()
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
	train, _ := loadTestData(t)
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
		_, err := shards[0].Reduce([]float32{1}) // shard 1 never arrives
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
	if _, err := shards[1].Reduce([]float32{1}); err == nil {
		t.Fatal("Reduce after abort succeeded")
	}
}
