//go:build goexperiment.simd && !wasm

package kernels

// useWasmPoolAsm is false: the pools in assembly are wasm's (maxpool_wasm.go).
const useWasmPoolAsm = false

// poolAsm is false here; maxPoolWasm and selectAndScatterMaxWasm are never called.
func poolAsm(p Pool) bool { return false }

func maxPoolWasm(dst, src []float32, p Pool) { panic("kernels: no wasm pool on this architecture") }

func selectAndScatterMaxWasm(dst, src, grad []float32, p Pool) {
	panic("kernels: no wasm pool on this architecture")
}
