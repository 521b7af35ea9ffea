// Package benchfig writes benchmark figures as JSON lines, one per figure, in the one format that
// `make bench` prints and BENCHMARKS.md records, for the native (cmd/bench) and browser
// (pagetest/browser_bench_test.go) benchmarks alike.
package benchfig

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"
)

// Figure is one measured value.
type Figure struct {
	Figure  string  `json:"figure"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	Batch   int     `json:"batch,omitempty"`
	Workers int     `json:"workers,omitempty"`
	Backend string  `json:"backend"`
	// Engine is the browser the page ran in (chromium, firefox, webkit); empty for native figures.
	Engine string `json:"engine,omitempty"`
	CPUs   int    `json:"cpus"`
	Date   string `json:"date"`
}

// Writer prints figures measured on one backend, in one browser engine or natively.
type Writer struct {
	W       io.Writer
	Backend string
	Engine  string
}

// Emit prints one figure, rounded to two decimals, with the machine's CPU count and today's date.
func (w Writer) Emit(name string, value float64, unit string, batch, workers int) {
	line, _ := json.Marshal(Figure{Figure: name, Value: math.Round(value*100) / 100, Unit: unit, Batch: batch,
		Workers: workers, Backend: w.Backend, Engine: w.Engine, CPUs: runtime.NumCPU(), Date: time.Now().UTC().Format("2006-01-02")})
	fmt.Fprintln(w.W, string(line))
}
