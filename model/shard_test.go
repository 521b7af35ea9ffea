package model

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"math"
	"sync"
	"testing"
)

// TestShardedStepMatchesWholeBatch trains replicas on shards of each batch, as browser workers do,
// and checks that they follow one model trained on whole batches to float rounding, and stay
// bit-identical to each other. (Measured: losses agree to 2e-7 over three steps with three shards.)
func TestShardedStepMatchesWholeBatch(t *testing.T) {
	train, _ := loadTestData(t)
	cfg := smallConfig(96)
	cfg.Filters = [3]int{8, 16, 16}
	const batch, steps = 32, 3
	pixels := ImageSize * ImageSize
	batchData := func(step int) ([]byte, []int32) {
		lo := step * batch
		labels := make([]int32, batch)
		for i := range labels {
			labels[i] = int32(train.Labels[lo+i])
		}
		return train.Images[lo*pixels : (lo+batch)*pixels], labels
	}

	whole := newTestModel(t, cfg)
	var wantLoss []float64
	for step := range steps {
		images, labels := batchData(step)
		loss, err := whole.lockedTrainStep(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		wantLoss = append(wantLoss, loss)
	}

	for _, n := range []int{1, 3} {
		shards := LocalShards(n)
		replicas := make([]*Model, n)
		for i := range replicas {
			replicas[i] = newTestModel(t, cfg)
		}
		losses := make([][]float64, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for step := range steps {
					images, labels := batchData(step)
					lo, hi := shards[i].part(batch)
					loss, err := replicas[i].shardStep(&shards[i], images[lo*pixels:hi*pixels], labels[lo:hi], batch)
					if err != nil {
						t.Error(err)
						return
					}
					losses[i] = append(losses[i], loss)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		const tol = 1e-5
		for step := range steps {
			if d := math.Abs(losses[0][step] - wantLoss[step]); d > tol*wantLoss[step] {
				t.Errorf("%d shards, step %d: loss %.7f, whole batch %.7f", n, step, losses[0][step], wantLoss[step])
			}
		}
		for i := 1; i < n; i++ {
			for _, p := range cfg.Params() {
				a, b := flatValue(t, replicas[0], p.Name), flatValue(t, replicas[i], p.Name)
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("replica %d's %s[%d] = %v, replica 0's %v: replicas drifted apart", i, p.Name, j, b[j], a[j])
					}
				}
			}
		}
		t.Logf("%d shards: losses %v (whole batch %v)", n, losses[0], wantLoss)
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
	images := train.Images[:batch*pixels]
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(train.Labels[i])
	}
	whole := newTestModel(t, cfg)
	exec, err := context.NewExec(whole.backend, whole.ctx, func(ctx *context.Context, images, labels *Node) []*Node {
		w := whole.graphWeights(images.Graph())
		loss := crossEntropy(buildForward(cfg, w, images).logits, labels)
		var params []*Node
		for _, p := range cfg.Params() {
			params = append(params, w[p.Name])
		}
		return append(Gradient(loss, params...), loss)
	})
	if err != nil {
		t.Fatal(err)
	}
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
		shards := LocalShards(n)
		totals := make([][]float32, n)
		var order []string
		var wg sync.WaitGroup
		for i := range n {
			m := newTestModel(t, cfg)
			g, err := m.shardGraphs()
			if err != nil {
				t.Fatal(err)
			}
			order = g.order
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
		for _, name := range order {
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
