package model

// The notebook's optimiser is TF 1.x's tf.compat.v1.train.AdamOptimizer(0.005), whose update
// differs from GoMLX's Adam (and from the paper's "ε after bias correction" form): TF adds ε to
// √v before correcting for bias, and folds both corrections into the step size. For parameters
// whose gradients are tiny, √v is of the order of ε, and the two forms' steps differ severalfold.
//
//	lr_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
//	m    = β₁·m + (1 − β₁)·g
//	v    = β₂·v + (1 − β₂)·g²
//	θ    = θ − lr_t · m / (√v + ε)
//
// with β₁ = 0.9, β₂ = 0.999, ε = 1e-8, and t counting steps from 1 (TF keeps β₁ᵗ and β₂ᵗ as
// variables, multiplied by β after each step; so do we).

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// TF 1.x AdamOptimizer's defaults.
const (
	adamBeta1   = 0.9
	adamBeta2   = 0.999
	adamEpsilon = 1e-8
)

// adamState is the optimiser's state: a first and second moment per parameter, and β₁ᵗ, β₂ᵗ.
// It lives in the model's context, so every training graph (whole-batch, on-device, sharded)
// updates the same variables.
type adamState struct {
	m, v                   map[string]*mlctx.Variable // by ParamSpec.Name
	beta1Power, beta2Power *mlctx.Variable            // β₁ᵗ and β₂ᵗ for the next step
}

// newAdamState creates zero moments for cfg's parameters in ctx's "adam" scope.
func newAdamState(ctx *mlctx.Context, cfg Config) *adamState {
	scope := ctx.In("adam")
	s := &adamState{m: make(map[string]*mlctx.Variable), v: make(map[string]*mlctx.Variable)}
	for _, p := range cfg.Params() {
		zeros := func() *tensors.Tensor { return tensors.FromShape(shapes.Make(dtypes.Float32, p.Shape...)) }
		s.m[p.Name] = scope.In(p.Name).VariableWithValue("m", zeros()).SetTrainable(false)
		s.v[p.Name] = scope.In(p.Name).VariableWithValue("v", zeros()).SetTrainable(false)
	}
	s.beta1Power = scope.VariableWithValue("beta1_power", float32(adamBeta1)).SetTrainable(false)
	s.beta2Power = scope.VariableWithValue("beta2_power", float32(adamBeta2)).SetTrainable(false)
	return s
}

// update adds to the graph of grads one Adam step of the model's parameters, given the
// gradient of each (grads[i] is that of specs[i]), at learning rate lr.
func (s *adamState) update(params map[string]*mlctx.Variable, specs []ParamSpec, grads []*Node, lr float64) {
	g := grads[0].Graph()
	b1p, b2p := s.beta1Power.ValueGraph(g), s.beta2Power.ValueGraph(g)
	one := ScalarOne(g, dtypes.Float32)
	lrT := MulScalar(Div(Sqrt(Sub(one, b2p)), Sub(one, b1p)), lr)
	for i, grad := range grads {
		name := specs[i].Name
		m := Add(MulScalar(s.m[name].ValueGraph(g), adamBeta1), MulScalar(grad, 1-adamBeta1))
		v := Add(MulScalar(s.v[name].ValueGraph(g), adamBeta2), MulScalar(Square(grad), 1-adamBeta2))
		theta := params[name].ValueGraph(g)
		step := Mul(lrT, Div(m, AddScalar(Sqrt(v), adamEpsilon)))
		s.m[name].SetValueGraph(m)
		s.v[name].SetValueGraph(v)
		params[name].SetValueGraph(Sub(theta, step))
	}
	s.beta1Power.SetValueGraph(MulScalar(b1p, adamBeta1))
	s.beta2Power.SetValueGraph(MulScalar(b2p, adamBeta2))
}
