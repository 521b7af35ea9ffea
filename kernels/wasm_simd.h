// Macros the wasm assembly kernels share (gemm_tile_wasm.s, gemm_sparse_wasm.s, reduce_wasm.s).

// ZERO8 sets the 8 accumulators V0–V7 to +0 in every lane.
#define ZERO8 \
	F32Const $0.0 \
	F32x4Splat \
	Set V0 \
	Get V0 \
	Set V1 \
	Get V0 \
	Set V2 \
	Get V0 \
	Set V3 \
	Get V0 \
	Set V4 \
	Get V0 \
	Set V5 \
	Get V0 \
	Set V6 \
	Get V0 \
	Set V7

// NEXT moves r on by the step in bytes in by.
#define NEXT(r, by) \
	Get r \
	by \
	I64Add \
	Set r

// AGAIN counts r down by one and goes back to the loop's head while it is not zero.
#define AGAIN(r) \
	Get r \
	I64Const $1 \
	I64Sub \
	Tee r \
	I64Eqz \
	I32Eqz \
	BrIf $0
