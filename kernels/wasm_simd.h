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

// AT pushes the address off bytes past the one in r, as an i32: where a store goes. (Go's
// assembler drops a V128Store's offset operand, so a store's address is computed in full.)
#define AT(r, off) \
	Get r \
	I64Const $off \
	I64Add \
	I32WrapI64

// VLOAD pushes the vector off bytes past the address in r.
#define VLOAD(r, off) \
	Get r \
	I32WrapI64 \
	V128Load $off

// VSTORE stores v off bytes past the address in r.
#define VSTORE(r, off, v) \
	AT(r, off) \
	Get v \
	V128Store $0

// VCOPY copies the vector off bytes past src to off bytes past dst, bits unchanged.
#define VCOPY(dst, src, off) \
	AT(dst, off) \
	VLOAD(src, off) \
	V128Store $0

// LOAD4 sets V0–V3 to the 4 vectors from the address in r.
#define LOAD4(r) \
	VLOAD(r, 0) \
	Set V0 \
	VLOAD(r, 16) \
	Set V1 \
	VLOAD(r, 32) \
	Set V2 \
	VLOAD(r, 48) \
	Set V3

// STORE8 stores V0–V7 to the 8 vectors from the address in r.
#define STORE8(r) \
	VSTORE(r, 0, V0) \
	VSTORE(r, 16, V1) \
	VSTORE(r, 32, V2) \
	VSTORE(r, 48, V3) \
	VSTORE(r, 64, V4) \
	VSTORE(r, 80, V5) \
	VSTORE(r, 96, V6) \
	VSTORE(r, 112, V7)
