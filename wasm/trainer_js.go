//go:build js && wasm

package main

// This file holds the functions of the JS API (listed in wasm_js.go): each converts its arguments
// from JS values, calls the session (package session, where the trainer's logic is), and hands the
// result back, which asyncFunc turns into JS values (toJS).

import (
	"errors"
	"fmt"
	"net/url"
	"runtime/debug"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/session"
)

// trainer is the JS API over one session.
type trainer struct {
	s *session.Session
}

// parsed converts v with parse and answers do's result for it: the methods whose one argument
// becomes one session value.
func parsed[A, R any](v safejs.Value, parse func(safejs.Value) (A, error), do func(A) (R, error)) (any, error) {
	a, err := parse(v)
	if err != nil {
		return nil, err
	}
	return do(a)
}

// newTrainer starts the session, which gives the JS event loop a turn with yield between training
// steps, and sets Go's soft memory limit to what its work needs.
func newTrainer(yield func()) (*trainer, error) {
	s, err := session.New(session.Options{Yield: yield, SetMemoryLimit: func(n int64) { debug.SetMemoryLimit(n) }})
	if err != nil {
		return nil, err
	}
	return &trainer{s: s}, nil
}

func (t *trainer) jsLoadData(args []safejs.Value) (any, error) {
	files := arg(args, 0)
	if files.Type() != safejs.TypeObject {
		return nil, errors.New("loadData: expected an object of file name -> Uint8Array")
	}
	// The training images stay in the page (trainset_js.go): only their count comes here.
	port, err := arg(args, 1).Get("images")
	if err != nil || port.Type() != safejs.TypeObject {
		return nil, errors.New("loadData: expected {images: MessagePort, count}: the page's training images")
	}
	count, err := intField(arg(args, 1), "count", -1)
	if err != nil {
		return nil, err
	}
	data := make(map[string][]byte)
	for _, f := range mnist.KnownFiles {
		if v, err := files.Get(f.Name); f.Name != mnist.TrainImagesFile && err == nil && !v.IsUndefined() {
			if data[f.Name], err = bytesFromJS(v, f.Name); err != nil {
				return nil, err
			}
		}
	}
	d, err := session.ParseData(data, count)
	if err != nil {
		return nil, err
	}
	images, err := newPageImages(port)
	if err != nil {
		return nil, err
	}
	train, test := t.s.SetData(d, images)
	return map[string]int{"train": train, "test": test}, nil
}

// jsUnpackImages checks and unpacks a training images file for the page, which keeps the pixels
// for every worker (trainset_js.go): they go back as a Uint8Array of runs (mnist.ParseImageRuns).
func (t *trainer) jsUnpackImages(args []safejs.Value) (any, error) {
	data, err := bytesFromJS(arg(args, 0), mnist.TrainImagesFile)
	if err != nil {
		return nil, err
	}
	pix, err := session.UnpackImages(data)
	if err != nil {
		return nil, err
	}
	return bytesToJS(pix)
}

func (t *trainer) jsConfigure(args []safejs.Value) (any, error) {
	return parsed(arg(args, 0), settings, t.s.Configure)
}

// jsDescribe answers what configure would for the same settings, and changes nothing.
func (t *trainer) jsDescribe(args []safejs.Value) (any, error) {
	return parsed(arg(args, 0), settings, session.Describe)
}

// settings reads configure's and describe's argument: a query string or an object of key: value.
func settings(v safejs.Value) (url.Values, error) {
	switch v.Type() {
	case safejs.TypeString:
		s, _ := v.String()
		return session.ParseSettings(s)
	case safejs.TypeObject:
		entries, err := objectEntries(v)
		if err != nil {
			return nil, err
		}
		return session.SettingsOf(entries), nil
	}
	return nil, errors.New("settings: expected a query string or an object")
}

func (t *trainer) jsTrain(args []safejs.Value) (any, error) {
	opts := arg(args, 0)
	nums := numbers{obj: opts}
	o := session.TrainOptions{TestImages: nums.get("testImages", 0), Run: nums.get("run", 0), Team: nums.get("team", 0)}
	if nums.err != nil {
		return nil, nums.err
	}
	var err error
	if o.Digits, err = digitsOption(opts); err != nil { // My digits (digits_js.go)
		return nil, err
	}
	onEvent := arg(args, 1)
	if onEvent.Type() != safejs.TypeFunction {
		return nil, errors.New("train: onEvent must be a function")
	}
	return t.s.Train(o, func(e session.Event) {
		jv, err := toJS(e)
		if err == nil {
			_, err = onEvent.Invoke(jv)
		}
		if err != nil {
			logError("train event: " + err.Error())
		}
	})
}

// jsMeasure times a team's training steps: {run, team, steps, worker} (session.Session.Measure).
func (t *trainer) jsMeasure(args []safejs.Value) (any, error) {
	opts := arg(args, 0)
	var o session.MeasureOptions
	var err error
	if o.Run, err = intField(opts, "run", 0); err != nil {
		return nil, err
	}
	if o.Steps, err = intField(opts, "steps", 3); err != nil {
		return nil, fmt.Errorf("measure: steps must be 1 to 100 (%v)", err)
	}
	if o.Team, err = intField(opts, "team", 0); err != nil {
		return nil, err
	}
	if o.Worker, err = intField(opts, "worker", 0); err != nil {
		return nil, err
	}
	return t.s.Measure(o)
}

// jsJoin makes this worker one of several that train together (model.Shard): index of count,
// with a port to worker 0, or on worker 0 to each other worker in order (worker.js, teamPorts).
func (t *trainer) jsJoin(args []safejs.Value) (any, error) {
	nums := numbers{obj: arg(args, 0)}
	index, count := nums.get("index", -1), nums.get("count", 0)
	if nums.err != nil {
		return nil, nums.err
	}
	want, err := session.JoinPorts(index, count)
	if err != nil {
		return nil, err
	}
	var ports []safejs.Value
	if count > 1 {
		list := arg(args, 1)
		n, err := list.Length()
		if err != nil || n != want {
			return nil, fmt.Errorf("join: worker %d of %d needs %d ports", index, count, want)
		}
		for i := range n {
			port, err := list.Index(i)
			if err != nil {
				return nil, err
			}
			ports = append(ports, port)
		}
	}
	return struct{}{}, t.s.Join(index, count, func() (session.Peers, error) { return newPeers(index, count, ports) })
}

// jsAbort ends training run {run} with {error}, the reason to give: another worker failed.
func (t *trainer) jsAbort(args []safejs.Value) (any, error) {
	runID, err := intField(arg(args, 0), "run", 0)
	if err != nil {
		return nil, err
	}
	msg := "another worker failed"
	if v, err := arg(args, 0).Get("error"); err == nil && v.Type() == safejs.TypeString {
		msg, _ = v.String()
	}
	t.s.Abort(runID, msg)
	return struct{}{}, nil
}

func (t *trainer) jsPause([]safejs.Value) (any, error)  { return struct{}{}, t.s.Pause() }
func (t *trainer) jsResume([]safejs.Value) (any, error) { return struct{}{}, t.s.Resume() }
func (t *trainer) jsStop([]safejs.Value) (any, error)   { return struct{}{}, t.s.Stop() }

func (t *trainer) jsEvaluate(args []safejs.Value) (any, error) {
	n, err := intField(arg(args, 0), "testImages", 0)
	if err != nil {
		return nil, err
	}
	return t.s.Evaluate(n)
}

func (t *trainer) jsCellDigits(args []safejs.Value) (any, error) {
	var nums [3]int
	for i, name := range []string{"label", "predicted", "limit"} {
		v := arg(args, i)
		if v.Type() != safejs.TypeNumber {
			return nil, fmt.Errorf("cellDigits: %s must be a number", name)
		}
		nums[i], _ = v.Int()
	}
	return t.s.CellDigits(nums[0], nums[1], nums[2])
}

func (t *trainer) jsKernels([]safejs.Value) (any, error) { return t.s.Kernels() }

func (t *trainer) jsPredict(args []safejs.Value) (any, error) {
	return parsed(arg(args, 0), drawing, t.s.Predict)
}

func (t *trainer) jsFeatureMaps(args []safejs.Value) (any, error) {
	return parsed(arg(args, 0), input, t.s.FeatureMaps)
}

// jsInspect answers inspect({key, weights}, source) with the kernels and the feature maps of source
// (featureMaps' argument) of the model in the weights file weights, kept aside by key
// (session.Session.LoadStored): once it is loaded, weights may be null, and is not read if sent.
func (t *trainer) jsInspect(args []safejs.Value) (any, error) {
	req := arg(args, 0)
	keyValue, err := req.Get("key")
	if err != nil || keyValue.Type() != safejs.TypeString {
		return nil, errors.New("inspect: expected {key: string, weights: Uint8Array}")
	}
	key, _ := keyValue.String()
	st, err := t.s.LoadStored(key, func() ([]byte, error) {
		w, err := req.Get("weights")
		if err != nil || w.IsUndefined() || w.IsNull() {
			return nil, nil // none sent
		}
		return readWeights(w, "inspect")
	})
	if err != nil {
		return nil, err
	}
	src, err := input(arg(args, 1))
	if err != nil {
		return nil, err
	}
	return t.s.Inspect(st, src)
}

// input reads featureMaps' source: a test image {index} or a drawing {pixels, width, height}.
func input(v safejs.Value) (session.Input, error) {
	if hasField(v, "index") {
		i, err := intField(v, "index", 0)
		return session.Input{Index: i}, err
	}
	d, err := drawing(v)
	if err != nil {
		return session.Input{}, err
	}
	return session.Input{Drawing: &d}, nil
}

// drawing reads {pixels, width, height}: a drawing, which the session centres as MNIST digits are.
func drawing(v safejs.Value) (session.Drawing, error) {
	if !hasField(v, "pixels") {
		return session.Drawing{}, errors.New("expected {pixels, width, height}")
	}
	p, _ := v.Get("pixels")
	gray, err := bytesFromJS(p, "pixels")
	if err != nil {
		return session.Drawing{}, err
	}
	nums := numbers{obj: v}
	d := session.Drawing{Pixels: gray, Width: nums.get("width", 0), Height: nums.get("height", 0)}
	if nums.err != nil {
		return session.Drawing{}, nums.err
	}
	return d, nil
}

func (t *trainer) jsExportWeights([]safejs.Value) (any, error) { return t.s.ExportWeights() }

// jsImportWeights replaces the current model with the one in a weights file (a Uint8Array),
// refusing it where it differs from what the course locked: the second argument's locked, {key:
// value} (the page's lock=).
func (t *trainer) jsImportWeights(args []safejs.Value) (any, error) {
	data, err := readWeights(arg(args, 0), "importWeights")
	if err != nil {
		return nil, err
	}
	locked, err := lockedOption(arg(args, 1))
	if err != nil {
		return nil, err
	}
	return t.s.ImportWeights(data, locked)
}

// lockedOption reads opts.locked, {key: value}; none when it is not an object.
func lockedOption(opts safejs.Value) (map[string]string, error) {
	if opts.Type() != safejs.TypeObject {
		return nil, nil
	}
	lv, err := opts.Get("locked")
	if err != nil || lv.Type() != safejs.TypeObject {
		return nil, nil
	}
	return objectEntries(lv)
}

// readWeights copies a weights file (a Uint8Array) into Go, for importWeights and inspect (what
// names the call in errors). It refuses a file too large to be weights before copying it into
// Go's memory, which never shrinks.
func readWeights(v safejs.Value, what string) ([]byte, error) {
	if n, err := v.Get("length"); err == nil && n.Type() == safejs.TypeNumber {
		size, _ := n.Int()
		if err := session.CheckWeightsSize(size); err != nil {
			return nil, err
		}
	}
	return bytesFromJS(v, what)
}

// leaked holds what jsCrash's "oom" allocates, so that nothing of it can be collected.
var leaked [][]byte

// jsCrash makes the program fail as a broken one would, for the browser tests: "panic" panics on a
// goroutine of its own, which nothing recovers, and "oom" allocates 256 MB blocks until Go's
// WebAssembly memory cannot grow any more (browsers stop it at 4 GB at most), which Go's runtime
// ends with "fatal error: out of memory". Either way the Go program exits, as it would on a real
// bug or a real shortage of memory, and the worker reports why (worker.js). The blocks are never
// written, so they cost address space, not the machine's memory.
func (t *trainer) jsCrash(args []safejs.Value) (any, error) {
	how, err := arg(args, 0).String()
	if err != nil {
		return nil, errors.New("crash: expected \"panic\" or \"oom\"")
	}
	message := "crash requested"
	if m := arg(args, 1); m.Type() == safejs.TypeString {
		message, _ = m.String()
	}
	switch how {
	case "panic":
		go func() { panic(message) }()
	case "oom":
		go func() {
			for {
				leaked = append(leaked, make([]byte, 256<<20))
			}
		}()
	default:
		return nil, fmt.Errorf("crash: unknown way %q, expected \"panic\" or \"oom\"", how)
	}
	return struct{}{}, nil
}
