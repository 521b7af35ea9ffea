//go:build goexperiment.simd && !amd64

package kernels

// useAVX512Asm is false: the assembly kernels are amd64's (gemm_avx512_amd64.go).
const useAVX512Asm = false

// tile6x2 is never called where useAVX512Asm is false.
func tile6x2(a []float32, rs, cs int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	panic("kernels: no assembly tile on this architecture")
}

// sparseBlockAsm is never called where useAVX512Asm is false.
func sparseBlockAsm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	panic("kernels: no assembly sparse block on this architecture")
}
