//go:build goexperiment.simd

package simplego

// This file is not part of GoMLX: it belongs to github.com/mnist-trainer/mnist and joins package
// simplego at build time (kernels/README.md). ConvertDType (bool, uint8, float32 and float64 to
// float32 or float64), Sqrt (float32, float64), Sign and Max with one value (float32), and the
// copies that Identity and Reshape make of an input still in use run on kernels' loops, split
// among the backend's workers natively.

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnist-trainer/mnist/kernels"
)

// execConvertDTypeSIMD converts to float32 or float64 from bool, uint8, float32 or float64.
func execConvertDTypeSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	operand := inputs[0]
	from, to := operand.shape.DType, node.shape.DType
	covered := (to == dtypes.Float32 || to == dtypes.Float64) &&
		(from == dtypes.Bool || from == dtypes.Uint8 || from == dtypes.Float32 || from == dtypes.Float64)
	if !covered || !kernels.Enabled() {
		return execConvertDType(backend, node, inputs, owned)
	}
	output := backend.getBuffer(to, operand.shape.Size())
	output.shape = node.shape
	w := kernelWorkers(backend)
	switch dst := output.flat.(type) {
	case []float32:
		convertTo(dst, operand.flat, w)
	case []float64:
		convertTo(dst, operand.flat, w)
	}
	convertCalls.Add(1)
	return output, nil
}

// convertTo sets dst to src, a []bool, []uint8, []float32 or []float64, converted to T.
func convertTo[T float32 | float64](dst []T, src any, w int) {
	switch src := src.(type) {
	case []bool:
		kernels.BoolsToFloat(dst, src, w)
	case []T: // already T: a copy (a type switch takes the first case that matches)
		kernels.Copy(dst, src, w)
	case []uint8:
		kernels.Convert(dst, src, w)
	case []float32:
		kernels.Convert(dst, src, w)
	case []float64:
		kernels.Convert(dst, src, w)
	}
}

// execMaxSIMD takes the float32 maximum of a tensor and one value that is neither NaN nor -0
// (the ReLU, max(x, 0)), in place when the tensor is owned; other dtypes, shapes and values go to
// simplego.
func execMaxSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	t, s := 0, 1
	if inputs[0].shape.Size() == 1 && inputs[1].shape.Size() != 1 {
		t, s = 1, 0
	}
	x, c := inputs[t], inputs[s]
	if x.shape.DType != dtypes.Float32 || c.shape.Size() != 1 || x.shape.Size() != node.shape.Size() || !kernels.Enabled() {
		return execMax(backend, node, inputs, owned)
	}
	cv := c.flat.([]float32)[0]
	if cv != cv || (cv == 0 && math.Signbit(float64(cv))) {
		return execMax(backend, node, inputs, owned)
	}
	output := x
	if owned[t] {
		inputs[t] = nil // taken over: each element is read before it is written
	} else {
		output = backend.getBufferForShape(node.shape)
	}
	output.shape = node.shape
	kernels.MaxScalar32(output.flat.([]float32), x.flat.([]float32), cv, kernelWorkers(backend))
	maxCalls.Add(1)
	return output, nil
}

// execSignSIMD takes float32 signs, in place when the input is owned.
func execSignSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	if inputs[0].shape.DType != dtypes.Float32 || !kernels.Enabled() {
		return execSign(backend, node, inputs, owned)
	}
	input, output := unaryOperandAndOutput(backend, inputs, owned)
	kernels.Sign32(output.flat.([]float32), input.flat.([]float32), kernelWorkers(backend))
	signCalls.Add(1)
	return output, nil
}

// execSqrtSIMD takes float32 and float64 square roots, in place when the input is owned.
func execSqrtSIMD(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
	dtype := inputs[0].shape.DType
	if (dtype != dtypes.Float32 && dtype != dtypes.Float64) || !kernels.Enabled() {
		return execSqrt(backend, node, inputs, owned)
	}
	input, output := unaryOperandAndOutput(backend, inputs, owned)
	if dtype == dtypes.Float32 {
		kernels.Sqrt32(output.flat.([]float32), input.flat.([]float32), kernelWorkers(backend))
	} else {
		kernels.Sqrt64(output.flat.([]float64), input.flat.([]float64), kernelWorkers(backend))
	}
	sqrtCalls.Add(1)
	return output, nil
}

// copyingExecutor wraps Identity's or Reshape's executor, generic: an owned input is handed on as
// is (generic does that), one still in use is copied on kernels.Copy's workers.
func copyingExecutor(generic nodeExecutor) nodeExecutor {
	return func(backend *Backend, node *Node, inputs []*Buffer, owned []bool) (*Buffer, error) {
		operand := inputs[0]
		if owned[0] || !kernels.Enabled() {
			return generic(backend, node, inputs, owned)
		}
		output := backend.getBuffer(operand.shape.DType, operand.shape.Size())
		output.shape = node.shape
		w := kernelWorkers(backend)
		switch src := operand.flat.(type) {
		case []float32:
			kernels.Copy(output.flat.([]float32), src, w)
		case []float64:
			kernels.Copy(output.flat.([]float64), src, w)
		case []int32:
			kernels.Copy(output.flat.([]int32), src, w)
		default:
			backend.putBuffer(output)
			return generic(backend, node, inputs, owned)
		}
		copyCalls.Add(1)
		return output, nil
	}
}
