package model

import (
	"net/url"
	"testing"
)

// maxParams is the parameter count of the largest network Validate accepts.
func maxParams() int { return largestConfig().NumParams() }

// largestConfig is the valid configuration with the most parameters: every size at its limit,
// and stride 1, which keeps conv1's output 28x28. Params grows with each of them.
func largestConfig() Config {
	cfg := DefaultConfig()
	cfg.Filters = [3]int{fieldMax("filters"), fieldMax("filters"), fieldMax("filters")}
	cfg.KernelSize, cfg.Stride = fieldMax("kernel"), 1
	cfg.Dense = [2]int{fieldMax("dense"), fieldMax("dense")}
	return cfg
}

// FuzzConfigQuery feeds arbitrary query strings to FromQuery, as the page
// does with its URL: an embedding course page, or a student, may write
// anything there. Whatever FromQuery accepts must be valid, have a bounded
// network, and survive a round trip through its own query form.
func FuzzConfigQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"preset=notebook&epochs=1&panels=train,loss,report,draw",
		"preset=half-filters&lr=0.001&batch=128",
		"preset=kernel-4&kernel=5&stride=1",
		"filters=16,32,64&dense=64,32&seed=-7&epsilon=1e-3",
		"train-images=512&loss-images=256&batch=32",
		"filters=512,512,512&dense=4096,4096&kernel=7&stride=1", // the largest network
		"filters=1000000,1,1",                                   // absurd
		"epochs=-1", "epochs=ten", "lr=NaN", "lr=1e309", "epsilon=0", "batch=1e3",
		"filters=1,2", "filters=1,2,3,4", "filters= 8 , 8 ,8", "dense=,",
		"train-images=10&batch=64", "preset=huge", "preset=", "epochs=1&epochs=2",
		"%zz=1", "seed=9223372036854775808", "kernel=0x7", "lr=%2B1",
	} {
		f.Add(s)
	}
	limit := maxParams()
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return // the page's URLSearchParams would have decoded it differently anyway
		}
		cfg, err := FromQuery(q)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("FromQuery(%q) accepted an invalid configuration: %v", query, err)
		}
		total := 0
		for _, p := range cfg.Params() {
			size := p.Size()
			if size < 1 || size > limit || p.FanIn < 1 || p.FanOut < 1 {
				t.Fatalf("FromQuery(%q): parameter %s has shape %v, size %d, fan-in %d, fan-out %d", query, p.Name, p.Shape, size, p.FanIn, p.FanOut)
			}
			total += size
		}
		if n := cfg.NumParams(); n != total || n > limit {
			t.Fatalf("FromQuery(%q): NumParams %d, the tensors hold %d, and the largest valid network has %d", query, n, total, limit)
		}

		// The configuration written back as a query reads the same.
		back := url.Values{}
		for _, fld := range Fields() {
			back.Set(fld.Key, fld.Get(&cfg))
		}
		again, err := FromQuery(back)
		if err != nil || again != cfg {
			t.Fatalf("FromQuery(%q) = %s, but its own query %q gives %s, %v", query, cfg, back.Encode(), again, err)
		}
	})
}
