//go:build js && wasm

package main

// This file holds the trainer's state and the functions of the JS API (listed in wasm_js.go).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/model"
)

// progressInterval is the shortest time between two progress events: about ten a second makes a
// smooth chart without flooding the page. Every event carries all the steps since the last one.
const progressInterval = 100 * time.Millisecond

// trainer is the state behind the JS API. Calls run on goroutines that interleave whenever one
// blocks or yields, so the state is guarded by mu; the model serialises its own work.
type trainer struct {
	backend backends.Backend
	yield   func() // gives the JS event loop a turn; see yielder

	mu          sync.Mutex
	train, test *model.Dataset // nil until loadData
	cfg         model.Config   // the configuration of the next training run
	current     *model.Model   // what predictions, kernels, feature maps and exports use
	run         *run           // the training run in progress, or nil
	eval        *model.Evaluation
}

// run is a training run in progress.
type run struct {
	cancel  context.CancelFunc
	control *model.Control
}

func newTrainer() (*trainer, error) {
	backend, err := model.GoBackend()
	if err != nil {
		return nil, err
	}
	cfg := model.DefaultConfig()
	// The page starts with the untrained notebook network, so kernels, feature maps and the
	// drawing pad show something (random) before the first run.
	m, err := model.New(backend, cfg)
	if err != nil {
		return nil, err
	}
	return &trainer{backend: backend, cfg: cfg, current: m}, nil
}

// info is what the page needs to build its controls and fetch the data.
type info struct {
	Fields  []fieldInfo  `json:"fields"`
	Presets []presetInfo `json:"presets"`
	Files   []fileInfo   `json:"files"`
}

type fieldInfo struct {
	Key   string `json:"key"`
	Usage string `json:"usage"`
	Value string `json:"value"` // the notebook's value
}

type presetInfo struct {
	Name   string            `json:"name"`
	Title  string            `json:"title"`
	Values map[string]string `json:"values"`
}

type fileInfo struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

func (t *trainer) info() info {
	var in info
	def := model.DefaultConfig()
	for _, f := range model.Fields() {
		in.Fields = append(in.Fields, fieldInfo{Key: f.Key, Usage: f.Usage, Value: f.Get(&def)})
	}
	for _, p := range model.Presets() {
		in.Presets = append(in.Presets, presetInfo{Name: p.Name, Title: p.Title, Values: values(p.Config)})
	}
	for _, f := range model.KnownFiles {
		in.Files = append(in.Files, fileInfo{Name: f.Name, Size: f.Size})
	}
	return in
}

// values returns cfg as text, by setting key.
func values(cfg model.Config) map[string]string {
	v := make(map[string]string)
	for _, f := range model.Fields() {
		v[f.Key] = f.Get(&cfg)
	}
	return v
}

// summary is the model summary: the trainable parameters of each layer.
type summary struct {
	Layers []layerSummary `json:"layers"`
	Total  int            `json:"total"`
}

type layerSummary struct {
	Name   string `json:"name"`
	Shapes string `json:"shapes"` // e.g. "3×3×1×32 + 32": kernel and bias
	Params int    `json:"params"`
}

func summarize(cfg model.Config) summary {
	var s summary
	for _, p := range cfg.Params() {
		layer, _, _ := strings.Cut(p.Name, ".")
		if n := len(s.Layers); n == 0 || s.Layers[n-1].Name != layer {
			s.Layers = append(s.Layers, layerSummary{Name: layer})
		}
		l := &s.Layers[len(s.Layers)-1]
		dims := make([]string, len(p.Shape))
		for i, d := range p.Shape {
			dims[i] = fmt.Sprint(d)
		}
		if l.Shapes != "" {
			l.Shapes += " + "
		}
		l.Shapes += strings.Join(dims, "×")
		l.Params += p.Size()
		s.Total += p.Size()
	}
	return s
}

// configResult answers configure and importWeights.
type configResult struct {
	Values  map[string]string `json:"values"`
	Summary summary           `json:"summary"`
}

func (t *trainer) jsLoadData(args []safejs.Value) (any, error) {
	files := arg(args, 0)
	if files.Type() != safejs.TypeObject {
		return nil, errors.New("loadData: expected an object of file name -> Uint8Array")
	}
	data := make(map[string][]byte)
	for _, f := range model.KnownFiles {
		v, err := files.Get(f.Name)
		if err != nil || v.IsUndefined() {
			return nil, fmt.Errorf("%s is missing", f.Name)
		}
		if data[f.Name], err = bytesFromJS(v, f.Name); err != nil {
			return nil, err
		}
		if err := model.VerifyFile(f.Name, data[f.Name]); err != nil {
			return nil, err
		}
	}
	train, err := model.LoadDataset(bytes.NewReader(data[model.TrainImagesFile]), bytes.NewReader(data[model.TrainLabelsFile]))
	if err != nil {
		return nil, err
	}
	test, err := model.LoadDataset(bytes.NewReader(data[model.TestImagesFile]), bytes.NewReader(data[model.TestLabelsFile]))
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.train, t.test = train, test
	return map[string]int{"train": train.Len(), "test": test.Len()}, nil
}

func (t *trainer) jsConfigure(args []safejs.Value) (any, error) {
	q, err := settingsQuery(arg(args, 0))
	if err != nil {
		return nil, err
	}
	cfg, err := model.FromQuery(q)
	if err != nil {
		return nil, settingError{key: settingKey(err), err: err}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg = cfg
	return configResult{Values: values(cfg), Summary: summarize(cfg)}, nil
}

// settingsQuery reads configure's argument: a query string or an object of key: value.
func settingsQuery(v safejs.Value) (url.Values, error) {
	switch v.Type() {
	case safejs.TypeString:
		s, _ := v.String()
		q, err := url.ParseQuery(strings.TrimPrefix(s, "?"))
		if err != nil {
			return nil, fmt.Errorf("settings: %v", err)
		}
		return q, nil
	case safejs.TypeObject:
		entries, err := objectEntries(v)
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		for k, val := range entries {
			q.Set(k, val)
		}
		return q, nil
	}
	return nil, errors.New("settings: expected a query string or an object")
}

// settingKey finds which setting an error from model.FromQuery is about: its messages start with the key.
func settingKey(err error) string {
	msg := err.Error()
	for _, f := range model.Fields() {
		if strings.HasPrefix(msg, f.Key+":") {
			return f.Key
		}
	}
	if strings.Contains(msg, "preset") {
		return "preset"
	}
	return ""
}

// Events of a training run, passed to train's onEvent.
type (
	progressEvent struct {
		Type         string  `json:"type"` // "progress"
		Step         int     `json:"step"`
		Steps        int     `json:"steps"`
		Epoch        int     `json:"epoch"`
		Epochs       int     `json:"epochs"`
		Loss         float64 `json:"loss"`
		SmoothLoss   float64 `json:"smoothLoss"`
		ImagesPerSec float64 `json:"imagesPerSec"`
		ElapsedMs    int64   `json:"elapsedMs"`
		EtaMs        int64   `json:"etaMs"`
		// Points holds [step, loss, smoothLoss] for every step since the previous event, this one
		// included, so the chart misses no step however the events are throttled.
		Points [][3]float64 `json:"points"`
	}
	evaluatingEvent struct {
		Type   string `json:"type"` // "evaluating"
		What   string `json:"what"` // "loss": the training loss after the epoch; "test": the test images
		Done   int    `json:"done"`
		Total  int    `json:"total"`
		Epoch  int    `json:"epoch"`
		Epochs int    `json:"epochs"`
	}
	epochEvent struct {
		Type       string      `json:"type"` // "epoch"
		Epoch      int         `json:"epoch"`
		Epochs     int         `json:"epochs"`
		Step       int         `json:"step"` // the last step of the epoch, where the chart marks it
		TrainLoss  float64     `json:"trainLoss"`
		LossImages int         `json:"lossImages"`
		DurationMs int64       `json:"durationMs"`
		Test       *testResult `json:"test"` // nil when the run was stopped during the evaluation
	}
)

// testResult is an evaluation on the first Images test images, as the page shows it.
type testResult struct {
	Images     int                   `json:"images"`
	Loss       float64               `json:"loss"`
	Accuracy   float64               `json:"accuracy"`
	Report     model.Report          `json:"report"`
	ReportText string                `json:"reportText"` // sklearn's text layout
	Confusion  model.ConfusionMatrix `json:"confusion"`
}

func newTestResult(ev *model.Evaluation) *testResult {
	return &testResult{Images: len(ev.Predictions), Loss: ev.Loss, Accuracy: ev.Report.Accuracy,
		Report: ev.Report, ReportText: ev.Report.String(), Confusion: ev.Confusion}
}

func (t *trainer) jsTrain(args []safejs.Value) (any, error) {
	testImages, err := intField(arg(args, 0), "testImages", 0)
	if err != nil {
		return nil, err
	}
	onEvent := arg(args, 1)
	if onEvent.Type() != safejs.TypeFunction {
		return nil, errors.New("train: onEvent must be a function")
	}
	emit := func(v any) {
		jv, err := toJS(v)
		if err == nil {
			_, err = onEvent.Invoke(jv)
		}
		if err != nil {
			logError("train event: " + err.Error())
		}
	}

	t.mu.Lock()
	if t.train == nil {
		t.mu.Unlock()
		return nil, errors.New("the MNIST data is not loaded yet")
	}
	if t.run != nil {
		t.mu.Unlock()
		return nil, errors.New("a training run is already in progress")
	}
	if testImages, err = checkTestImages(testImages, t.test); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	cfg, train := t.cfg, t.train
	m, err := model.New(t.backend, cfg)
	if err != nil {
		t.mu.Unlock()
		return nil, settingError{key: settingKey(err), err: err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &run{cancel: cancel, control: &model.Control{}}
	t.run, t.current, t.eval = r, m, nil
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.run = nil
		t.mu.Unlock()
	}()

	// The images Train measures the after-epoch loss on: the first loss-images of the training images.
	lossImages := train.Len()
	if cfg.TrainImages > 0 {
		lossImages = min(lossImages, cfg.TrainImages)
	}
	if cfg.LossImages > 0 {
		lossImages = min(lossImages, cfg.LossImages)
	}
	var (
		lastEmit time.Time
		points   [][3]float64
		testTime time.Duration // how long the last test evaluation took, for the ETA
		lastStep int
	)
	results, err := m.Train(ctx, train, model.TrainOptions{
		Control: r.control,
		OnProgress: func(p model.Progress) {
			lastStep = p.Step
			points = append(points, [3]float64{float64(p.Step), p.Loss, p.SmoothLoss})
			epochEnd := p.Step%(p.Steps/p.Epochs) == 0
			if now := time.Now(); epochEnd || p.Step == 1 || now.Sub(lastEmit) >= progressInterval {
				lastEmit = now
				eta := p.ETA + time.Duration(p.Epochs-p.Epoch+1)*testTime
				emit(progressEvent{Type: "progress", Step: p.Step, Steps: p.Steps, Epoch: p.Epoch, Epochs: p.Epochs,
					Loss: p.Loss, SmoothLoss: p.SmoothLoss, ImagesPerSec: finite(p.ImagesPerSec),
					ElapsedMs: p.Elapsed.Milliseconds(), EtaMs: eta.Milliseconds(), Points: points})
				points = nil
			}
			if epochEnd {
				// Train now measures the training loss without yielding; say so first.
				emit(evaluatingEvent{Type: "evaluating", What: "loss", Total: lossImages, Epoch: p.Epoch, Epochs: p.Epochs})
			}
			t.yield()
		},
		OnEpoch: func(res model.EpochResult) {
			ev := epochEvent{Type: "epoch", Epoch: res.Epoch, Epochs: cfg.Epochs, Step: lastStep,
				TrainLoss: res.TrainLoss, LossImages: res.LossImages}
			start := time.Now()
			eval, err := t.evaluateTest(ctx, m, testImages, func(done int) {
				emit(evaluatingEvent{Type: "evaluating", What: "test", Done: done, Total: testImages,
					Epoch: res.Epoch, Epochs: cfg.Epochs})
			})
			testTime = time.Since(start)
			switch {
			case err == nil:
				ev.Test = newTestResult(eval)
				t.mu.Lock()
				t.eval = eval
				t.mu.Unlock()
			case !errors.Is(err, context.Canceled):
				// The run goes on; the page shows the epoch without a report.
				logError("evaluating on the test images: " + err.Error())
			}
			ev.DurationMs = (res.Duration + testTime).Milliseconds()
			emit(ev)
		},
	})
	switch {
	case errors.Is(err, context.Canceled):
		return map[string]any{"stopped": true, "epochs": len(results)}, nil
	case err != nil:
		return nil, err
	}
	return map[string]any{"stopped": false, "epochs": len(results)}, nil
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// checkTestImages turns the page's test-image count into a number of images; 0 means all.
func checkTestImages(n int, test *model.Dataset) (int, error) {
	if test == nil {
		return 0, errors.New("the MNIST data is not loaded yet")
	}
	if n == 0 {
		return test.Len(), nil
	}
	if n < 0 || n > test.Len() {
		return 0, settingError{key: "test-images", err: fmt.Errorf("test-images: %d is outside 0..%d (0 means all)", n, test.Len())}
	}
	return n, nil
}

// evaluateTest evaluates m on the first n test images. It goes one batch (model.EvalBatch) at a
// time, which gives exactly model.Evaluate's result, so it can yield between batches and stop when
// ctx is cancelled: 10,000 images take minutes in a browser.
func (t *trainer) evaluateTest(ctx context.Context, m *model.Model, n int, progress func(done int)) (*model.Evaluation, error) {
	t.mu.Lock()
	test := t.test.Slice(0, n)
	t.mu.Unlock()
	ev := &model.Evaluation{}
	var lossSum float64
	for start := 0; start < n; start += model.EvalBatch {
		progress(start)
		t.yield()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := test.Slice(start, start+model.EvalBatch)
		pev, err := m.Evaluate(part)
		if err != nil {
			return nil, err
		}
		ev.Predictions = append(ev.Predictions, pev.Predictions...)
		lossSum += pev.Loss * float64(part.Len())
	}
	progress(n)
	labels := make([]int, n)
	for i, l := range test.Labels {
		labels[i] = int(l)
	}
	var err error
	if ev.Confusion, err = model.NewConfusionMatrix(model.NumClasses, labels, ev.Predictions); err != nil {
		return nil, err
	}
	ev.Report = ev.Confusion.Report()
	ev.Loss = lossSum / float64(n)
	return ev, nil
}

// control returns the run in progress.
func (t *trainer) control() (*run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run == nil {
		return nil, errors.New("no training run is in progress")
	}
	return t.run, nil
}

func (t *trainer) jsPause([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	r.control.Pause()
	return struct{}{}, nil
}

func (t *trainer) jsResume([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	r.control.Resume()
	return struct{}{}, nil
}

func (t *trainer) jsStop([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	r.cancel()
	return struct{}{}, nil
}

func (t *trainer) jsEvaluate(args []safejs.Value) (any, error) {
	n, err := intField(arg(args, 0), "testImages", 0)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	busy, m := t.run != nil, t.current
	n, err = checkTestImages(n, t.test)
	t.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case busy:
		return nil, errors.New("training is in progress: the report updates after each epoch")
	}
	ev, err := t.evaluateTest(context.Background(), m, n, func(int) {})
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.current == m {
		t.eval = ev
	}
	t.mu.Unlock()
	return newTestResult(ev), nil
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
	label, predicted, limit := nums[0], nums[1], nums[2]
	t.mu.Lock()
	ev, test := t.eval, t.test
	t.mu.Unlock()
	if ev == nil {
		return nil, errors.New("there is no evaluation yet: train or evaluate first")
	}
	result := struct {
		Count   int      `json:"count"`
		Indices []int    `json:"indices"`
		Images  []pixels `json:"images"`
	}{Indices: []int{}, Images: []pixels{}}
	for i, p := range ev.Predictions {
		if int(test.Labels[i]) == label && p == predicted {
			result.Count++
			if len(result.Indices) < limit {
				result.Indices = append(result.Indices, i)
				result.Images = append(result.Images, test.Image(i))
			}
		}
	}
	return result, nil
}

func (t *trainer) model() *model.Model {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

func (t *trainer) jsKernels([]safejs.Value) (any, error) {
	layers, err := t.model().Kernels()
	if err != nil {
		return nil, err
	}
	type layer struct {
		Layer  string   `json:"layer"`
		Size   int      `json:"size"`
		In     int      `json:"in"`
		Out    int      `json:"out"`
		Images []pixels `json:"images"` // each filter's kernel on input channel 0, scaled to 0..255
	}
	var out []layer
	for _, k := range layers {
		l := layer{Layer: k.Layer, Size: k.Size, In: k.In, Out: k.Out}
		for o := range k.Out {
			l.Images = append(l.Images, model.NormalizeForDisplay(k.Kernel(0, o)))
		}
		out = append(out, l)
	}
	return out, nil
}

// drawing reads {pixels, width, height} and centres it as MNIST digits are.
func drawing(v safejs.Value) ([]byte, error) {
	if !hasField(v, "pixels") {
		return nil, errors.New("expected {pixels, width, height}")
	}
	p, _ := v.Get("pixels")
	gray, err := bytesFromJS(p, "pixels")
	if err != nil {
		return nil, err
	}
	w, err := intField(v, "width", 0)
	if err != nil {
		return nil, err
	}
	h, err := intField(v, "height", 0)
	if err != nil {
		return nil, err
	}
	return model.CenterDigit(gray, w, h)
}

func (t *trainer) jsPredict(args []safejs.Value) (any, error) {
	img, err := drawing(arg(args, 0))
	if err != nil {
		return nil, err
	}
	probs, err := t.model().Probabilities(img)
	if err != nil {
		return nil, err
	}
	return struct {
		Probabilities [model.NumClasses]float32 `json:"probabilities"`
		Input         pixels                    `json:"input"` // the centred 28x28 image the network saw
	}{probs, img}, nil
}

func (t *trainer) jsFeatureMaps(args []safejs.Value) (any, error) {
	src := arg(args, 0)
	result := struct {
		Index  int     `json:"index"` // -1 for a drawing
		Label  int     `json:"label"` // -1 for a drawing
		Input  pixels  `json:"input"`
		Layers []layer `json:"layers"`
	}{Index: -1, Label: -1}
	if hasField(src, "index") {
		i, err := intField(src, "index", 0)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		test := t.test
		t.mu.Unlock()
		if test == nil {
			return nil, errors.New("the MNIST data is not loaded yet")
		}
		if i < 0 || i >= test.Len() {
			return nil, fmt.Errorf("test image %d does not exist: pick 0..%d", i, test.Len()-1)
		}
		result.Index, result.Label, result.Input = i, int(test.Labels[i]), test.Image(i)
	} else {
		img, err := drawing(src)
		if err != nil {
			return nil, err
		}
		result.Input = img
	}
	maps, err := t.model().FeatureMaps(result.Input)
	if err != nil {
		return nil, err
	}
	for _, f := range maps {
		l := layer{Layer: f.Layer, Side: f.Side, Channels: f.Channels}
		for c := range f.Channels {
			l.Maps = append(l.Maps, model.NormalizeForDisplay(f.Map(c)))
		}
		result.Layers = append(result.Layers, l)
	}
	return result, nil
}

// layer is one conv layer's feature maps, each scaled to 0..255.
type layer struct {
	Layer    string   `json:"layer"`
	Side     int      `json:"side"`
	Channels int      `json:"channels"`
	Maps     []pixels `json:"maps"`
}

func (t *trainer) jsExportWeights([]safejs.Value) (any, error) {
	var buf bytes.Buffer
	if err := t.model().Save(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (t *trainer) jsImportWeights(args []safejs.Value) (any, error) {
	data, err := bytesFromJS(arg(args, 0), "importWeights")
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	busy := t.run != nil
	t.mu.Unlock()
	if busy {
		return nil, errors.New("stop the training run before importing weights")
	}
	m, err := model.Load(t.backend, data)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run != nil {
		return nil, errors.New("stop the training run before importing weights")
	}
	t.current, t.cfg, t.eval = m, m.Config(), nil
	return configResult{Values: values(m.Config()), Summary: summarize(m.Config())}, nil
}
