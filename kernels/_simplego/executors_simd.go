//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). It is the one list of the ops whose executors the
// other _simplego files replace, and of the kernel families they count (kernels.Register).

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/mnist-trainer/mnist/kernels"
)

// The call counter of each kernel family, under the name it shows (kernels.Active).
var (
	dotGeneralCalls = kernels.Register("DotGeneral/f32")
	binaryCalls     = kernels.Register("Add,Sub,Mul,Div/f32")
	broadcastCalls  = kernels.Register("BroadcastInDim")
	sliceCalls      = kernels.Register("Slice")
	reduceSumCalls  = kernels.Register("ReduceSum/f32,f64")
	gatherRowsCalls = kernels.Register("Gather/rows")
	scatterSumCalls = kernels.Register("ScatterSum/f32 rows")
	convertCalls    = kernels.Register("ConvertDType")
	sqrtCalls       = kernels.Register("Sqrt")
	maxCalls        = kernels.Register("Max/f32 scalar")
	signCalls       = kernels.Register("Sign/f32")
	copyCalls       = kernels.Register("Identity,Reshape copies")
	maxPoolCalls    = kernels.Register("MaxPool/f32")
)

// init sets each executor ahead of simplego's own (priorityArch), by file: dotgeneral_simd.go,
// elementwise_simd.go, layout_simd.go, pool_simd.go, reduce_gather_simd.go, unary_simd.go. Each
// one clears the vector registers' upper halves before it returns (kernels.ClearUpper): the
// scalar Go that simplego runs next on the thread would otherwise wait on them at every float
// instruction.
func init() {
	set := func(op backends.OpType, exec nodeExecutor) {
		setNodeExecutor(op, priorityArch, func(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
			defer kernels.ClearUpper()
			return exec(backend, node, inputs, owned)
		})
	}
	set(backends.OpTypeDotGeneral, execDotGeneralSIMD)
	for op, k := range map[backends.OpType]struct {
		op      kernels.BinaryOp
		generic nodeExecutor
	}{
		backends.OpTypeAdd: {kernels.Add, execAdd},
		backends.OpTypeSub: {kernels.Sub, execSub},
		backends.OpTypeMul: {kernels.Mul, execMul},
		backends.OpTypeDiv: {kernels.Div, execDiv},
	} {
		set(op, binaryExecutor(k.op, k.generic))
	}
	set(backends.OpTypeBroadcastInDim, execBroadcastInDimSIMD)
	set(backends.OpTypeSlice, execSliceRuns)
	set(backends.OpTypeReduceSum, execReduceSumSIMD)
	set(backends.OpTypeGather, execGatherSIMD)
	set(backends.OpTypeScatterSum, execScatterSumSIMD)
	set(backends.OpTypeConvertDType, execConvertDTypeSIMD)
	set(backends.OpTypeSqrt, execSqrtSIMD)
	set(backends.OpTypeMax, execMaxSIMD)
	set(backends.OpTypeSign, execSignSIMD)
	set(backends.OpTypeIdentity, copyingExecutor(execIdentity))
	set(backends.OpTypeReshape, copyingExecutor(execReshape))
	set(backends.OpTypeReduceWindow, execReduceWindowSIMD)
	set(backends.OpTypeSelectAndScatterMax, execSelectAndScatterMaxSIMD)
}
