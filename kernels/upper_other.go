//go:build goexperiment.simd && !amd64

package kernels

// ClearUpper ends the kernels' vector code on the calling thread. Only amd64 has a penalty to
// avoid (see upper_amd64.go); elsewhere it does nothing.
func ClearUpper() {}
