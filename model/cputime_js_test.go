//go:build js

package model

import "time"

// cpuTime is not available under js/wasm; the metric then reads 0.
func cpuTime() time.Duration { return 0 }
