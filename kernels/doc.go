// Package kernels holds this project's SIMD compute kernels for GoMLX's pure-Go backend
// (simplego), written with Go 1.27's portable simd package: one source compiles to
// WebAssembly SIMD128 (4 float32 lanes), AVX2/AVX-512 on amd64 (8 or 16) and NEON on arm64 (4).
//
// The kernels work on plain slices and know nothing of GoMLX. The files in _simplego/ join
// package simplego at build time (see README.md and scripts/simd-vendor.sh): they register an
// executor per op at simplego's priorityArch that calls these kernels for the cases they cover
// and simplego's own executor for everything else.
//
// Everything SIMD is built only with GOEXPERIMENT=simd. Without it this package holds just the
// registry below, nothing registers, and simplego runs its own executors (and
// _simplego/selectandscatter.go's, the one op it lacks, which is not SIMD).
package kernels

import (
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

var (
	mu    sync.Mutex
	calls = map[string]*atomic.Int64{} // by kernel family: the registered ones

	// disabled turns every kernel off at run time, for tests that compare against simplego's
	// own path in the same process.
	disabled atomic.Bool
)

// Register records that the kernel family name (for example "DotGeneral/f32") replaced
// simplego's executor, and returns its call counter. Called once per family, from the list in
// _simplego/executors_simd.go.
func Register(name string) *atomic.Int64 {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := calls[name]; ok {
		return c
	}
	c := new(atomic.Int64)
	calls[name] = c
	return c
}

// Active lists the kernel families registered in this binary, sorted; empty when the binary
// was built without them.
func Active() []string {
	mu.Lock()
	defer mu.Unlock()
	return append([]string{}, slices.Sorted(maps.Keys(calls))...) // [], not nil, in JSON too
}

// Calls returns how many times the kernel family name ran instead of simplego's executor.
func Calls(name string) int64 {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := calls[name]; ok {
		return c.Load()
	}
	return 0
}

// SetEnabled switches every kernel on or off at run time (on by default); off, each
// registered executor hands every call to simplego's own. For tests and benchmarks.
func SetEnabled(on bool) { disabled.Store(!on) }

// Enabled reports whether the kernels are switched on (see SetEnabled).
func Enabled() bool { return !disabled.Load() }

// Summary is a one-word description for people: "SIMD ×N" with N float32 lanes when the
// kernels are in, else "generic".
func Summary() string {
	if len(Active()) == 0 || !Enabled() {
		return "generic"
	}
	return "SIMD ×" + strconv.Itoa(Lanes())
}
