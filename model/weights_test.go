package model

import (
	"bytes"
	"testing"

	"github.com/mnist-trainer/mnist/safetensors"
)

// TestMaxWeightsFileSize: the bound holds for every preset's file and for the networks with the
// most parameters that the browser's memory limit lets through, and it follows from them: a grid
// of configurations finds one within 5% of it. It is well below the 582 MB that the settings'
// ranges alone allowed (largestConfig), which no browser tab could train.
func TestMaxWeightsFileSize(t *testing.T) {
	limit := MaxWeightsFileSize()
	t.Logf("MaxWeightsFileSize: %d bytes (%d parameters at most; %d within the settings' ranges)", limit, maxTrainableParams, maxParams())
	if limit >= 8+safetensors.MaxHeaderLen+4*maxParams() || limit > 256<<20 {
		t.Errorf("MaxWeightsFileSize %d: not bounded by what a browser tab can train", limit)
	}
	for _, p := range Presets() {
		var buf bytes.Buffer
		if err := newTestModel(t, p.Config).Save(&buf); err != nil {
			t.Fatal(err)
		}
		// The header is what varies with the configuration: the data is 4 bytes a parameter.
		if header := buf.Len() - 4*p.Config.NumParams(); buf.Len() > limit || header > safetensors.MaxHeaderLen+8 {
			t.Errorf("preset %s: a %d-byte file with a %d-byte header, over the bound %d", p.Name, buf.Len(), header, limit)
		}
	}

	// Every configuration of the grid within the limit has at most maxTrainableParams parameters,
	// so its file (4 bytes a parameter after at most 8+safetensors.MaxHeaderLen) fits the bound.
	best, bestCfg, tried := 0, Config{}, 0
	sizes := []int{1, 64, 256, 512}
	for stride := 1; stride <= fieldMax("stride"); stride++ {
		for kernel := 1; kernel <= fieldMax("kernel"); kernel += 2 {
			for _, f1 := range sizes {
				for _, f2 := range sizes {
					for _, f3 := range sizes {
						for _, d1 := range []int{1024, 2048, 4096} {
							for _, d2 := range []int{1024, 2048, 4096} {
								cfg := DefaultConfig()
								cfg.Stride, cfg.KernelSize, cfg.BatchSize = stride, kernel, 1
								cfg.Filters, cfg.Dense = [3]int{f1, f2, f3}, [2]int{d1, d2}
								tried++
								if cfg.CheckMemory(BrowserMemoryLimit, "") != nil {
									continue
								}
								n := cfg.NumParams()
								if n > maxTrainableParams {
									t.Fatalf("%s passes the memory check with %d parameters, more than the bound's %d", cfg, n, maxTrainableParams)
								}
								if n > best {
									best, bestCfg = n, cfg
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("of %d configurations, the most parameters within the memory limit: %d (%s)", tried, best, bestCfg)
	if best < maxTrainableParams*95/100 {
		t.Errorf("the bound of %d parameters is loose: the largest network within the limit found has %d", maxTrainableParams, best)
	}
}
