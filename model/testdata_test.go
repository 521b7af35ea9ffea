package model

import (
	"bytes"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/safetensors"
)

// testBatch returns the first n training images and their labels, as a training step takes them.
func testBatch(train *mnist.Dataset, n int) ([]byte, []int32) {
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(train.Labels[i])
	}
	return train.Images[:n*mnist.ImageSize*mnist.ImageSize], labels
}

// gradientExec returns an exec of m's whole-batch loss on (images, labels): the gradient of every
// parameter, in Config.Params order, then the loss, all by GoMLX's autodiff.
func gradientExec(tb testing.TB, m *Model) *mlctx.Exec {
	tb.Helper()
	exec, err := mlctx.NewExec(m.backend, m.ctx, func(ctx *mlctx.Context, images, labels *Node) []*Node {
		w := m.graphWeights(images.Graph())
		loss := crossEntropy(buildForward(m.cfg, w, images, false).logits, labels)
		return append(Gradient(loss, m.paramNodes(w)...), loss)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return exec
}

// savedWeights returns m saved as a weights file, and that file decoded: the starting point of
// tests that spoil one part of a good file.
func savedWeights(tb testing.TB, m *Model) ([]byte, map[string]string, []safetensors.Tensor) {
	tb.Helper()
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		tb.Fatal(err)
	}
	meta, named, err := safetensors.Decode(buf.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), meta, named
}
