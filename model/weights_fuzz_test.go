package model

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/safetensors"
)

// tinyConfig is a network small enough that the fuzzer can load and run it
// thousands of times: 2 filters per conv layer, 4 units per dense layer.
func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.Filters, cfg.Dense = [3]int{2, 2, 2}, [2]int{4, 4}
	return cfg
}

// savedModel returns the weights file of a fresh model of cfg, and its
// metadata and tensors decoded, for building variants.
func savedModel(tb testing.TB, cfg Config) (file []byte, meta map[string]string, named []safetensors.Tensor) {
	tb.Helper()
	m, err := New(mustBackend(tb), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		tb.Fatal(err)
	}
	if meta, named, err = safetensors.Decode(b.Bytes()); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes(), meta, named
}

// encodeWeights encodes a weights file from its parts.
func encodeWeights(tb testing.TB, meta map[string]string, named []safetensors.Tensor) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := safetensors.Encode(&b, meta, named); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// withConfig returns a copy of meta whose configuration is cfg.
func withConfig(tb testing.TB, meta map[string]string, cfg Config) map[string]string {
	tb.Helper()
	j, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	meta = maps.Clone(meta)
	meta[metaConfig] = string(j)
	return meta
}

// hugeConfig is the largest network Validate accepts with 3x3 kernels, whose
// weights would take about 220 MB as float32.
func hugeConfig() Config {
	cfg := DefaultConfig()
	cfg.Filters, cfg.Dense = [3]int{fieldMax("filters"), fieldMax("filters"), fieldMax("filters")}, [2]int{fieldMax("dense"), fieldMax("dense")}
	return cfg
}

// FuzzLoadWeights feeds arbitrary bytes to Load, as the page's Import button
// does with whatever file a student picks. Load must return a model or an
// error starting "weights file:", never panic, and allocate in proportion to
// the file, not to what its header claims. A model that loads must predict.
func FuzzLoadWeights(f *testing.F) {
	good, meta, named := savedModel(f, tinyConfig())
	f.Add(good)
	for _, n := range []int{0, 7, 8, 9, 100, len(good) / 2, len(good) - 4, len(good) - 1} {
		f.Add(good[:n]) // truncated: in the length, the header, the data
	}
	f.Add(append(bytes.Clone(good), 0))

	other := tinyConfig()
	other.Filters[0] = 3
	nan := cloneTensors(named)
	nan[0].Data[0], nan[1].Data[0] = float32(math.NaN()), float32(math.Inf(1))
	badJSON := maps.Clone(meta)
	badJSON[metaConfig] = strings.Replace(meta[metaConfig], `"filters"`, `"filterz"`, 1)
	for _, v := range [][]byte{
		encodeWeights(f, withConfig(f, meta, other), named),        // another architecture
		encodeWeights(f, withConfig(f, meta, hugeConfig()), named), // claims a 220 MB network
		encodeWeights(f, meta, named[1:]),                          // a tensor missing
		encodeWeights(f, meta, nan),                                // loads: NaN and Inf weights
		encodeWeights(f, badJSON, named),                           // unknown config field
		encodeWeights(f, nil, named),                               // no metadata
		encodeWeights(f, map[string]string{metaFormat: weightsFormat, metaVersion: "2", metaConfig: meta[metaConfig]}, named),
	} {
		f.Add(v)
	}

	backend := mustBackend(f)
	blank := make([]byte, mnist.ImageSize*mnist.ImageSize)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, n, err := loadCountingAllocs(backend, data)
		// Decoding copies the tensors a couple of times; GoMLX adds a
		// little per variable. Anything near the claimed model's size
		// would be far above this. Other goroutines (finalizers, GoMLX's
		// workers) may allocate meanwhile, so an excess must repeat.
		if limit := 8*uint64(len(data)) + 4<<20; n > limit {
			if _, again, _ := loadCountingAllocs(backend, data); again > limit {
				t.Errorf("Load of %d bytes allocated %d bytes, then %d; want at most %d", len(data), n, again, limit)
			}
		}
		if err != nil {
			if m != nil {
				t.Fatalf("Load returned a model and the error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "weights file: ") {
				t.Fatalf("error does not say it is about the weights file: %v", err)
			}
			return
		}
		if err := m.Config().Validate(); err != nil {
			t.Fatalf("loaded a model with an invalid configuration: %v", err)
		}
		probs, err := m.Probabilities(blank)
		if err != nil {
			t.Fatalf("a loaded model cannot predict: %v", err)
		}
		for _, p := range probs {
			// NaN is allowed: the file may hold NaN weights, and the page
			// reports a model that predicts NaN.
			if p < 0 || p > 1 {
				t.Fatalf("probabilities %v outside [0, 1]", probs)
			}
		}
	})
}

// loadCountingAllocs is Load that also returns the bytes the process
// allocated meanwhile.
func loadCountingAllocs(backend backends.Backend, data []byte) (m *Model, allocated uint64, err error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err = Load(backend, data)
	runtime.ReadMemStats(&after)
	return m, after.TotalAlloc - before.TotalAlloc, err
}

func cloneTensors(named []safetensors.Tensor) []safetensors.Tensor {
	out := make([]safetensors.Tensor, len(named))
	for i, t := range named {
		out[i] = safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: append([]float32(nil), t.Data...)}
	}
	return out
}

// TestLoadHugeConfigNoAlloc checks that a file whose configuration claims
// the largest network Validate accepts (filters 512,512,512, dense
// 4096,4096: 55 million weights, 220 MB), with only a tiny network's tensors,
// fails on the first shape check without allocating the claimed model.
func TestLoadHugeConfigNoAlloc(t *testing.T) {
	const limit = 1 << 20
	_, meta, named := savedModel(t, tinyConfig())
	claimed := hugeConfig().NumParams() * 4
	data := encodeWeights(t, withConfig(t, meta, hugeConfig()), named)

	start := time.Now()
	_, n, err := loadCountingAllocs(mustBackend(t), data)
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "tensor conv1.kernel has shape [3 3 1 2], but its configuration") {
		t.Fatalf("Load() = %v, want the shape error for conv1.kernel", err)
	}
	if n > limit { // once more: another goroutine may have allocated meanwhile
		_, n, _ = loadCountingAllocs(mustBackend(t), data)
	}
	if n > limit {
		t.Errorf("Load allocated %d bytes rejecting a %d-byte file that claims %d bytes of weights, want < %d", n, len(data), claimed, limit)
	}
	t.Logf("a %d-byte file claiming %d MB of weights: rejected in %v, %d KB allocated", len(data), claimed/1e6, elapsed, n>>10)
}
