//go:build goexperiment.simd && !amd64

package kernels

// tileAsm is false: the assembly tile is amd64's (gemm_avx512_amd64.go).
const tileAsm = false

// tile6x2 is never called where tileAsm is false.
func tile6x2(a []float32, rs, cs int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	panic("kernels: no assembly tile on this architecture")
}
