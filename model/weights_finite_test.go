package model

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/safetensors"
)

// TestLoadRejectsNonFinite: a weights file holding a NaN or an infinity is refused, naming the
// tensor and the first bad value. Loaded, one NaN bias made every probability NaN, and every
// prediction and evaluation after it failed.
func TestLoadRejectsNonFinite(t *testing.T) {
	m := newTestModel(t, smallConfig(64))
	_, meta, named := savedWeights(t, m)
	for _, c := range []struct {
		tensor string
		index  int
		value  float32
		want   string
	}{
		{"conv1.bias", 3, float32(math.NaN()), "weights file: tensor conv1.bias holds NaN at index 3 (of 32 values), and weights must be finite numbers"},
		{"dense1.kernel", 1000, float32(math.Inf(1)), "weights file: tensor dense1.kernel holds +Inf at index 1000"},
		{"output.bias", 9, float32(math.Inf(-1)), "weights file: tensor output.bias holds -Inf at index 9 (of 10 values)"},
	} {
		bad := make([]safetensors.Tensor, len(named))
		found := false
		for i, nt := range named {
			bad[i] = nt
			if nt.Name == c.tensor {
				bad[i].Data = append([]float32(nil), nt.Data...)
				bad[i].Data[c.index] = c.value
				bad[i].Data[len(nt.Data)-1] = c.value // the first bad index is the one named
				found = true
			}
		}
		if !found {
			t.Fatalf("no tensor %s in the saved file", c.tensor)
		}
		var file bytes.Buffer
		if err := safetensors.Encode(&file, meta, bad); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(mustBackend(t), file.Bytes())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			var probs [mnist.NumClasses]float32
			if loaded != nil {
				probs, _ = loaded.Probabilities(make([]byte, mnist.ImageSize*mnist.ImageSize))
			}
			t.Errorf("%s[%d] = %v: Load() = %v, want an error containing %q (the loaded model predicts %v)",
				c.tensor, c.index, c.value, err, c.want, probs)
		}
	}
}
