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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/kernels"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
	"github.com/mnist-trainer/mnist/report"
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
	train, test *mnist.Dataset // nil until loadData
	images      *pageImages    // where train's images are
	team        int            // how many workers trained the latest run (limitMemory)
	cfg         model.Config   // the configuration of the next training run
	current     *model.Model   // what predictions, kernels, feature maps and exports use
	run         *run           // the training run in progress, or nil
	eval        *model.Evaluation
	peers       *peers // the other workers, when this is one of several (join); nil alone
	aborted     int    // the latest run the page aborted, and why
	abortErr    error

	inspected inspectCache // the stored runs' models inspect loaded, beside the current one
}

// run is a training run in progress.
type run struct {
	id       int                     // the page's number of the run
	cancel   context.CancelCauseFunc // nil cause: stopped; otherwise aborted for that reason
	control  *model.Control
	finished chan struct{} // closed when the run ends

	mu     sync.Mutex
	pauses []chan struct{} // pause calls waiting for the next pause point
}

func newRun(id int, cancel context.CancelCauseFunc) *run {
	return &run{id: id, cancel: cancel, control: &model.Control{}, finished: make(chan struct{})}
}

// askPause asks the run to pause at its next pause point, and returns a channel closed then.
func (r *run) askPause() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(chan struct{})
	r.pauses = append(r.pauses, c)
	return c
}

// atPausePoint is called where a pause takes effect: after a step or an evaluation batch, its
// event sent, just before model.Control waits. A pause asked for meanwhile starts here, so the
// page hears of it after the last step's progress, and no step follows.
func (r *run) atPausePoint() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pauses) == 0 {
		return
	}
	r.control.Pause()
	r.answerPauses()
}

// resume lets a paused run go on; pause calls still waiting reply, and their pause is cancelled.
func (r *run) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answerPauses()
	r.control.Resume()
}

// answerPauses lets the waiting pause calls reply. Callers hold r.mu.
func (r *run) answerPauses() {
	for _, c := range r.pauses {
		close(c)
	}
	r.pauses = nil
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
	t := &trainer{backend: backend, cfg: cfg, current: m}
	t.limitMemory() // before loadData, whose parsing is the first peak
	return t, nil
}

// info is what the page needs to build its controls and fetch the data.
type info struct {
	Fields  []fieldInfo  `json:"fields"`
	Presets []presetInfo `json:"presets"`
	Files   []fileInfo   `json:"files"`
	// MaxWeightsBytes is the size of the largest weights file of a network a tab can train
	// (model.MaxWeightsFileSize): the page refuses a larger one without reading it.
	MaxWeightsBytes int `json:"maxWeightsBytes"`
	// Kernels says which compute kernels this build runs: "SIMD ×4" (WebAssembly SIMD128, see
	// kernels/README.md) or "generic" (simplego as shipped); KernelList names each family.
	Kernels    string   `json:"kernels"`
	KernelList []string `json:"kernelList"`
}

type fieldInfo struct {
	Key   string `json:"key"`
	Usage string `json:"usage"`
	Value string `json:"value"` // the notebook's value
	// The setting's limits, as model.Field has them: the page's controls read them.
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	MinExclusive bool    `json:"minExclusive,omitempty"`
	Integer      bool    `json:"integer,omitempty"`
	Count        int     `json:"count,omitempty"`
}

type presetInfo struct {
	Name   string            `json:"name"`
	Title  string            `json:"title"`
	Values map[string]string `json:"values"`
}

type fileInfo struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	// SHA256 (lowercase hex) keys the page's cached copy: a changed file is a new key.
	SHA256 string `json:"sha256"`
	// TrainImages marks the training images, which the page keeps unpacked (unpackImages) and
	// does not pass to loadData.
	TrainImages bool `json:"trainImages,omitempty"`
}

func (t *trainer) info() info {
	var in info
	def := model.DefaultConfig()
	for _, f := range model.Fields() {
		in.Fields = append(in.Fields, fieldInfo{Key: f.Key, Usage: f.Usage, Value: f.Get(&def),
			Min: f.Min, Max: f.Max, MinExclusive: f.MinExclusive, Integer: f.Integer, Count: f.Count})
	}
	for _, p := range model.Presets() {
		in.Presets = append(in.Presets, presetInfo{Name: p.Name, Title: p.Title, Values: values(p.Config)})
	}
	for _, f := range mnist.KnownFiles {
		in.Files = append(in.Files, fileInfo{Name: f.Name, Size: f.Size, SHA256: f.SHA256, TrainImages: f.Name == mnist.TrainImagesFile})
	}
	in.MaxWeightsBytes = model.MaxWeightsFileSize()
	in.Kernels, in.KernelList = kernels.Summary(), kernels.Active()
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
	// MACs is the multiply-adds of one image's forward pass (model.Config.MACsPerImage): the
	// page scales a measured speed by it to estimate another configuration's.
	MACs int `json:"macs"`
	// Memory is the configuration's memory estimate, with what the page says about it.
	Memory memorySummary `json:"memory"`
}

// browserRoom says whose the memory limit is, in model.MemoryEstimate.Check's refusals.
const browserRoom = "a browser tab can give it"

// memoryWarning is the estimate above which the page warns before Train: a network that takes
// a sizeable share of a tab's 4 GB (Go's heap grows to about twice the estimate) and trains slowly.
const memoryWarning = 500_000_000

// memorySummary is model.Config.MemoryEstimate, in bytes, and the page's verdict on it.
type memorySummary struct {
	model.MemoryEstimate
	// Limit is model.BrowserMemoryLimit: the largest Peak the page trains.
	Limit int64 `json:"limit"`
	// Refusal, when Peak is above Limit, says so (model.MemoryEstimate.Check's message, which
	// starts with Keys[0]); train refuses such a configuration. Empty when it fits.
	Refusal string `json:"refusal"`
	// Warning, when Peak is above memoryWarning but within Limit, says how much memory the network
	// needs, what drives it and what needs less. Empty otherwise.
	Warning string `json:"warning"`
}

func summarizeMemory(cfg model.Config) memorySummary {
	e := cfg.MemoryEstimate()
	s := memorySummary{MemoryEstimate: e, Limit: model.BrowserMemoryLimit}
	if err := e.Check(model.BrowserMemoryLimit, browserRoom); err != nil {
		s.Refusal = err.Error()
	} else if e.Peak > memoryWarning {
		s.Warning = fmt.Sprintf("This network needs %s. That is a lot for a browser tab (the page refuses more than %s): %s",
			e, model.FormatBytes(model.BrowserMemoryLimit), lowerFirst(e.Advice()))
	}
	return s
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
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
	s.MACs = cfg.MACsPerImage()
	s.Memory = summarizeMemory(cfg)
	return s
}

// configResult answers configure, describe and importWeights.
type configResult struct {
	Values  map[string]string `json:"values"`
	Summary summary           `json:"summary"`
}

func newConfigResult(cfg model.Config) configResult {
	return configResult{Values: values(cfg), Summary: summarize(cfg)}
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
		if f.Name == mnist.TrainImagesFile {
			continue
		}
		v, err := files.Get(f.Name)
		if err != nil || v.IsUndefined() {
			return nil, fmt.Errorf("%s is missing", f.Name)
		}
		if data[f.Name], err = bytesFromJS(v, f.Name); err != nil {
			return nil, err
		}
		if err := mnist.VerifyFile(f.Name, data[f.Name]); err != nil {
			return nil, err
		}
	}
	labels, err := mnist.ParseLabels(bytes.NewReader(data[mnist.TrainLabelsFile]))
	if err != nil {
		return nil, err
	}
	if count != len(labels) {
		return nil, fmt.Errorf("mnist: the page holds %d training images, but there are %d training labels", count, len(labels))
	}
	test, err := mnist.LoadDataset(bytes.NewReader(data[mnist.TestImagesFile]), bytes.NewReader(data[mnist.TestLabelsFile]))
	if err != nil {
		return nil, err
	}
	images, err := newPageImages(port)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.images != nil {
		t.images.close()
	}
	t.images = images
	t.train, t.test = mnist.RemoteDataset(labels, images), test
	return map[string]int{"train": count, "test": test.Len()}, nil
}

func (t *trainer) jsConfigure(args []safejs.Value) (any, error) {
	cfg, err := parseSettings(arg(args, 0))
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// A configuration too large for the tab's memory is taken, so that the page can show its
	// summary and why it is refused (summary.memory.refusal); train refuses it.
	t.cfg = cfg
	t.limitMemory()
	return newConfigResult(cfg), nil
}

// jsDescribe answers what configure would for the same settings, and changes nothing: the page
// estimates runs it has queued without touching the configuration of the next one.
func (t *trainer) jsDescribe(args []safejs.Value) (any, error) {
	cfg, err := parseSettings(arg(args, 0))
	if err != nil {
		return nil, err
	}
	return newConfigResult(cfg), nil
}

// parseSettings reads configure's and describe's argument into a configuration; an invalid value
// fails with model's typed error, which names the setting (errorCode).
func parseSettings(v safejs.Value) (model.Config, error) {
	q, err := settingsQuery(v)
	if err != nil {
		return model.Config{}, err
	}
	return model.FromQuery(q)
}

// settingsQuery reads configure's and describe's argument: a query string or an object of key: value.
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
		Type   string        `json:"type"` // "evaluating"
		What   model.EvalSet `json:"what"` // "loss": the training loss after the epoch; "test": the test images
		Done   int           `json:"done"`
		Total  int           `json:"total"`
		Epoch  int           `json:"epoch"`
		Epochs int           `json:"epochs"`
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

		// Digits is the evaluation of My digits, when train's options held some (digits_js.go).
		Digits *digitsResult `json:"digits"`
	}
)

// testResult is an evaluation on the first Images test images, as the page shows it.
type testResult struct {
	Images     int                    `json:"images"`
	Loss       float64                `json:"loss"`
	Accuracy   float64                `json:"accuracy"`
	Report     report.Report          `json:"report"`
	ReportText string                 `json:"reportText"` // sklearn's text layout
	Confusion  report.ConfusionMatrix `json:"confusion"`
}

func newTestResult(ev *model.Evaluation) *testResult {
	return &testResult{Images: len(ev.Predictions), Loss: ev.Loss, Accuracy: ev.Report.Accuracy,
		Report: ev.Report, ReportText: ev.Report.String(), Confusion: ev.Confusion}
}

func (t *trainer) jsTrain(args []safejs.Value) (any, error) {
	opts := arg(args, 0)
	testImages, err := intField(opts, "testImages", 0)
	if err != nil {
		return nil, err
	}
	runID, err := intField(opts, "run", 0)
	if err != nil {
		return nil, err
	}
	team, idle, err := t.runTeam(opts)
	if err != nil || idle {
		return map[string]any{"idle": idle}, err
	}
	digits, err := digitsOption(opts) // My digits (digits_js.go)
	if err != nil {
		return nil, err
	}
	onEvent := arg(args, 1)
	if onEvent.Type() != safejs.TypeFunction {
		return nil, errors.New("train: onEvent must be a function")
	}

	t.mu.Lock()
	if err := t.canStart(runID); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	t.team = team
	t.limitMemory()
	if testImages, err = checkTestImages(testImages, t.test); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	cfg, train, test, peers := t.cfg, t.train, t.test.Slice(0, testImages), t.peers
	if peers != nil && runID < 1 {
		t.mu.Unlock()
		return nil, errors.New("train: several workers need the run's number (run ≥ 1)")
	}
	// Whole batches are the estimate's; a worker of a team trains on its share, and needs less.
	if err := cfg.CheckMemory(model.BrowserMemoryLimit, browserRoom); err != nil {
		t.mu.Unlock()
		return nil, err // code "memory", with the setting that drives it
	}
	m, err := model.New(t.backend, cfg)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	r := newRun(runID, cancel)
	before, beforeEval := t.current, t.eval // the model again if the run diverges
	t.run, t.current, t.eval = r, m, nil
	t.mu.Unlock()
	defer t.endRun(r)
	shard := peers.shard(ctx, runID, team)
	// Every worker reports the same progress and results: only the first one tells the page.
	emit := func(v any) {
		if shard != nil && shard.Index > 0 {
			return
		}
		jv, err := toJS(v)
		if err == nil {
			_, err = onEvent.Invoke(jv)
		}
		if err != nil {
			logError("train event: " + err.Error())
		}
	}

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
		lastStep int
	)
	results, err := m.Train(ctx, train, model.TrainOptions{
		Test:    test,
		Digits:  digits,
		Control: r.control,
		Shard:   shard,
		OnProgress: func(p model.Progress) {
			lastStep = p.Step
			points = append(points, [3]float64{float64(p.Step), p.Loss, p.SmoothLoss})
			epochEnd := p.Step%(p.Steps/p.Epochs) == 0
			if now := time.Now(); epochEnd || p.Step == 1 || now.Sub(lastEmit) >= progressInterval {
				lastEmit = now
				emit(progressEvent{Type: "progress", Step: p.Step, Steps: p.Steps, Epoch: p.Epoch, Epochs: p.Epochs,
					Loss: p.Loss, SmoothLoss: p.SmoothLoss, ImagesPerSec: finite(p.ImagesPerSec),
					ElapsedMs: p.Elapsed.Milliseconds(), EtaMs: p.ETA.Milliseconds(), Points: points})
				points = nil
			}
			if epochEnd {
				emit(evaluatingEvent{Type: "evaluating", What: model.EvalLoss, Total: lossImages, Epoch: p.Epoch, Epochs: p.Epochs})
				lastEmit = time.Now()
			}
			t.yield()
			if !epochEnd { // the epoch's evaluation starts without a pause point: its first batch ends at one
				r.atPausePoint()
			}
		},
		OnEvaluating: func(p model.EvalProgress) {
			if now := time.Now(); now.Sub(lastEmit) >= progressInterval || p.Done == p.Total {
				lastEmit = now
				emit(evaluatingEvent{Type: "evaluating", What: p.What, Done: p.Done, Total: p.Total,
					Epoch: p.Epoch, Epochs: p.Epochs})
			}
			t.yield() // pause, stop and predictions get their turn between evaluation batches
			r.atPausePoint()
		},
		OnEpoch: func(res model.EpochResult) {
			ev := epochEvent{Type: "epoch", Epoch: res.Epoch, Epochs: cfg.Epochs, Step: lastStep,
				TrainLoss: res.TrainLoss, LossImages: res.LossImages, DurationMs: res.Duration.Milliseconds()}
			ev.Digits = newDigitsResult(res.Digits)
			if res.Test != nil {
				ev.Test = newTestResult(res.Test)
				t.mu.Lock()
				t.eval = res.Test
				t.mu.Unlock()
			}
			emit(ev)
		},
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, cause // aborted: another worker failed
	}
	switch {
	case errors.Is(err, context.Canceled):
		return map[string]any{"stopped": true, "epochs": len(results)}, nil
	case errors.Is(err, model.ErrDiverged):
		// Weights that diverged are of no use, and would show as noise (kernels) or NaN
		// (predictions): the model before the run comes back.
		t.mu.Lock()
		if t.current == m {
			t.current, t.eval = before, beforeEval
		}
		t.mu.Unlock()
		return nil, fmt.Errorf("%w. The model is back to the one from before this run", err) // code "diverged"
	case err != nil:
		return nil, err
	}
	return map[string]any{"stopped": false, "epochs": len(results)}, nil
}

// canStart says why run runID (train's or measure's) cannot start on this worker, if it cannot:
// the data is not loaded, another run is in progress, or the page aborted runID before it started
// here (another worker failed). Callers hold t.mu.
func (t *trainer) canStart(runID int) error {
	switch {
	case t.train == nil:
		return errNotLoaded
	case t.run != nil:
		return coded(codeBusy, "", errors.New("a training run is already in progress"))
	case runID <= t.aborted && t.abortErr != nil:
		return t.abortErr // aborted before it started here
	}
	return nil
}

// endRun frees the worker for the next run when run r ends, and lets whoever waits for its end
// (pause, stop) go on.
func (t *trainer) endRun(r *run) {
	t.mu.Lock()
	t.run = nil
	t.mu.Unlock()
	close(r.finished)
}

// runTeam reads a run's team option: how many of the joined workers take part, the first ones
// (default: all of them). A team of one trains alone, with the same bits as any team. idle is
// true on a worker the run leaves out, which answers at once.
func (t *trainer) runTeam(opts safejs.Value) (team int, idle bool, err error) {
	t.mu.Lock()
	peers := t.peers
	t.mu.Unlock()
	count, index := 1, 0
	if peers != nil {
		count, index = peers.count, peers.index
	}
	if team, err = intField(opts, "team", count); err != nil {
		return 0, false, err
	}
	if team < 1 || team > count {
		return 0, false, fmt.Errorf("team: %d workers of the %d that joined", team, count)
	}
	return team, index >= team, nil
}

// jsMeasure times steps training steps of the configured network, after one that compiles, on a
// model of its own that it then drops, by the run's team (runTeam): the page measures, once per
// browser, which team trains fastest (web/team.js), since messages between workers cost 40 times
// more in some engines than in others. It answers {imagesPerSec, team}, {idle: true}, or
// {stopped: true} when the page stops it first.
func (t *trainer) jsMeasure(args []safejs.Value) (any, error) {
	opts := arg(args, 0)
	runID, err := intField(opts, "run", 0)
	if err != nil {
		return nil, err
	}
	steps, err := intField(opts, "steps", 3)
	if err != nil || steps < 1 || steps > 100 {
		return nil, fmt.Errorf("measure: steps must be 1 to 100 (%v)", err)
	}
	team, idle, err := t.runTeam(opts)
	if err != nil || idle {
		return map[string]any{"idle": idle}, err
	}
	t.mu.Lock()
	if err := t.canStart(runID); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	t.team = team
	t.limitMemory()
	cfg, train, peers := t.cfg, t.train, t.peers
	cfg.TrainImages, cfg.Epochs = 0, 1 // steps enough, whatever the run's settings
	m, err := model.New(t.backend, cfg)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	r := newRun(runID, cancel)
	t.run = r
	t.mu.Unlock()
	defer t.endRun(r)
	shard := peers.shard(ctx, runID, team)
	var start time.Time
	var elapsed time.Duration // set once the last timed step has ended
	// Every worker of the team stops after the same step, so that none waits for another's sums.
	_, err = m.Train(ctx, train, model.TrainOptions{Shard: shard, Control: r.control, OnProgress: func(p model.Progress) {
		switch p.Step {
		case 1:
			start = time.Now()
		case steps + 1:
			elapsed = time.Since(start)
			cancel(nil)
		}
		t.yield()
	}})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, cause // aborted: another worker failed
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if elapsed == 0 {
		return map[string]any{"stopped": true}, nil // the page's stop, before the last timed step
	}
	return map[string]any{"imagesPerSec": finite(float64(steps*cfg.BatchSize) / elapsed.Seconds()), "team": team}, nil
}

// jsJoin makes this worker one of several that train together (model.Shard): index of count,
// with ports (MessagePorts) to worker 0, or on worker 0 to each other worker in order.
func (t *trainer) jsJoin(args []safejs.Value) (any, error) {
	index, err := intField(arg(args, 0), "index", -1)
	if err != nil {
		return nil, err
	}
	count, err := intField(arg(args, 0), "count", 0)
	if err != nil {
		return nil, err
	}
	want := 1 // ports: one to worker 0, or one to each other worker
	if index == 0 {
		want = count - 1
	}
	if count < 1 || index < 0 || index >= count {
		return nil, fmt.Errorf("join: worker %d of %d does not exist", index, count)
	}
	if count > model.VirtualShards {
		// Each worker takes one virtual shard of every batch at least (the page's limit too).
		return nil, fmt.Errorf("join: %d workers; a team has at most %d", count, model.VirtualShards)
	}
	var ports []safejs.Value
	if count > 1 {
		list := arg(args, 1)
		n, err := list.Length()
		if err != nil || n != want {
			return nil, fmt.Errorf("join: worker %d of %d needs %d MessagePorts", index, count, want)
		}
		for i := range n {
			port, err := list.Index(i)
			if err != nil {
				return nil, err
			}
			ports = append(ports, port)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run != nil {
		return nil, errors.New("join: a training run is in progress")
	}
	if t.peers != nil {
		t.peers.close()
		t.peers = nil
	}
	if count > 1 {
		if t.peers, err = newPeers(index, count, ports); err != nil {
			return nil, err
		}
	}
	return struct{}{}, nil
}

// jsAbort ends training run {run} with {error}, the reason to give: another worker failed. A
// Reduce waiting for that worker fails at once. It also refuses that run if it has not started
// here yet.
func (t *trainer) jsAbort(args []safejs.Value) (any, error) {
	runID, err := intField(arg(args, 0), "run", 0)
	if err != nil {
		return nil, err
	}
	msg := "another worker failed"
	if v, err := arg(args, 0).Get("error"); err == nil && v.Type() == safejs.TypeString {
		msg, _ = v.String()
	}
	cause := coded(codeAborted, "", errors.New(msg))
	t.mu.Lock()
	defer t.mu.Unlock()
	if runID > t.aborted {
		t.aborted, t.abortErr = runID, cause
	}
	if t.run != nil && t.run.id <= runID {
		t.run.cancel(cause)
	}
	return struct{}{}, nil
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// errNotLoaded refuses what needs the MNIST data before loadData.
var errNotLoaded = coded(codeNotLoaded, "", errors.New("the MNIST data is not loaded yet"))

// checkTestImages turns the page's test-image count into a number of images; 0 means all.
func checkTestImages(n int, test *mnist.Dataset) (int, error) {
	if test == nil {
		return 0, errNotLoaded
	}
	if n == 0 {
		return test.Len(), nil
	}
	if n < 0 || n > test.Len() {
		return 0, coded(codeInvalidSetting, "test-images", fmt.Errorf("test-images: %d is outside 0..%d (0 means all)", n, test.Len()))
	}
	return n, nil
}

// evaluateTest evaluates m on the first n test images (the Evaluate button; training runs evaluate
// through model.TrainOptions.Test), yielding between batches, so that predictions, kernels and
// feature maps still answer: 10,000 images take minutes in a browser.
func (t *trainer) evaluateTest(m *model.Model, n int) (*model.Evaluation, error) {
	t.mu.Lock()
	test := t.test.Slice(0, n)
	t.mu.Unlock()
	ev, err := m.EvaluateEach(test, func(int, int) error {
		t.yield()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// control returns the run in progress.
func (t *trainer) control() (*run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run == nil {
		return nil, coded(codeNoRun, "", errors.New("no training run is in progress"))
	}
	return t.run, nil
}

func (t *trainer) jsPause([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	if r.control.Paused() {
		return struct{}{}, nil
	}
	// Answer once the step under way has ended and its progress has been sent, so that the page
	// sees no step after the answer.
	select {
	case <-r.askPause():
	case <-r.finished:
	}
	return struct{}{}, nil
}

func (t *trainer) jsResume([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	r.resume()
	return struct{}{}, nil
}

func (t *trainer) jsStop([]safejs.Value) (any, error) {
	r, err := t.control()
	if err != nil {
		return nil, err
	}
	r.cancel(nil)
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
		return nil, coded(codeBusy, "", errors.New("training is in progress: the report updates after each epoch"))
	}
	ev, err := t.evaluateTest(m, n)
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
		return nil, coded(codeNoEvaluation, "", errors.New("there is no evaluation yet: train or evaluate first"))
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
	return kernelImages(t.model())
}

// kernelLayer is one conv layer's kernels, as the page draws them.
type kernelLayer struct {
	Layer  string   `json:"layer"`
	Size   int      `json:"size"`
	In     int      `json:"in"`
	Out    int      `json:"out"`
	Images []pixels `json:"images"` // each filter's kernel on input channel 0, scaled to 0..255
}

// kernelImages is what kernels answers for m: the current model, or one inspect loaded.
func kernelImages(m *model.Model) ([]kernelLayer, error) {
	layers, err := m.Kernels()
	if err != nil {
		return nil, err
	}
	var out []kernelLayer
	for _, k := range layers {
		l := kernelLayer{Layer: k.Layer, Size: k.Size, In: k.In, Out: k.Out}
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
	return mnist.CenterDigit(gray, w, h)
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
		Probabilities [mnist.NumClasses]float32 `json:"probabilities"`
		Input         pixels                    `json:"input"` // the centred 28x28 image the network saw
	}{probs, img}, nil
}

func (t *trainer) jsFeatureMaps(args []safejs.Value) (any, error) {
	return t.featureMaps(t.model(), arg(args, 0))
}

// features answers featureMaps: the network's input and what each conv layer makes of it.
type features struct {
	Index  int     `json:"index"` // -1 for a drawing
	Label  int     `json:"label"` // -1 for a drawing
	Input  pixels  `json:"input"`
	Layers []layer `json:"layers"`
}

// featureMaps is what featureMaps answers for m (the current model, or one inspect loaded) and
// src, a test image {index} or a drawing {pixels, width, height}.
func (t *trainer) featureMaps(m *model.Model, src safejs.Value) (*features, error) {
	result := &features{Index: -1, Label: -1}
	if hasField(src, "index") {
		i, err := intField(src, "index", 0)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		test := t.test
		t.mu.Unlock()
		if test == nil {
			return nil, errNotLoaded
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
	maps, err := m.FeatureMaps(result.Input)
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

// errStopFirst refuses to replace the current model while a run trains it.
var errStopFirst = coded(codeBusy, "", errors.New("stop the training run before importing weights"))

func (t *trainer) jsImportWeights(args []safejs.Value) (any, error) {
	data, err := readWeights(arg(args, 0), "importWeights")
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	busy := t.run != nil
	t.mu.Unlock()
	if busy {
		return nil, errStopFirst
	}
	m, err := t.loadWeights(data)
	if err != nil {
		return nil, err
	}
	if err := checkLocked(m.Config(), arg(args, 1)); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run != nil {
		return nil, errStopFirst
	}
	t.current, t.cfg, t.eval = m, m.Config(), nil
	t.limitMemory()
	return newConfigResult(m.Config()), nil
}

// readWeights copies a weights file (a Uint8Array) into Go, for importWeights and inspect (what
// names the call in errors). It refuses a file too large to be weights before copying it into
// Go's memory, which never shrinks.
func readWeights(v safejs.Value, what string) ([]byte, error) {
	if n, err := v.Get("length"); err == nil && n.Type() == safejs.TypeNumber {
		if size, _ := n.Int(); size > model.MaxWeightsFileSize() {
			return nil, coded(codeInvalidWeights, "", fmt.Errorf("weights file: %d MB, more than any weights file of this trainer (at most %d MB)",
				size/1e6, model.MaxWeightsFileSize()/1e6))
		}
	}
	return bytesFromJS(v, what)
}

// checkLocked refuses the network of a weights file, cfg, where it differs from what the course
// locked: opts.locked is {key: value} (the page's lock=). Only settings that shape the weights
// count (filters, kernel, dense, …): a file's epochs or learning rate change no weight, and the
// page keeps its locked values of those anyway.
func checkLocked(cfg model.Config, opts safejs.Value) error {
	if opts.Type() != safejs.TypeObject {
		return nil
	}
	lv, err := opts.Get("locked")
	if err != nil || lv.Type() != safejs.TypeObject {
		return nil
	}
	locked, err := objectEntries(lv)
	if err != nil {
		return err
	}
	for _, f := range model.Fields() { // in the settings' order, so the message names the first
		want, ok := locked[f.Key]
		if !ok || f.Get(&cfg) == want {
			continue
		}
		as := cfg
		if f.Set(&as, want) != nil || !slices.EqualFunc(as.Params(), cfg.Params(), func(a, b model.ParamSpec) bool {
			return a.Name == b.Name && slices.Equal(a.Shape, b.Shape)
		}) {
			return coded(codeLocked, f.Key, fmt.Errorf("%s: the course fixed it at %s, and this file's network has %s", f.Key, want, f.Get(&cfg)))
		}
	}
	return nil
}

// loadWeights parses a weights file into a model (model.Load, whose message says what is wrong
// with a bad file). A network the tab cannot hold even at batch 1 is refused; one it can
// evaluate, but not train at its file's batch size, is taken, and after importWeights the page
// shows why Train refuses (summary.memory.refusal) until the batch is changed.
func (t *trainer) loadWeights(data []byte) (*model.Model, error) {
	m, err := model.Load(t.backend, data)
	if err != nil {
		return nil, coded(codeInvalidWeights, "", err)
	}
	atOne := m.Config()
	atOne.BatchSize = 1
	if err := atOne.CheckMemory(model.BrowserMemoryLimit, browserRoom); err != nil {
		var fe *model.FieldError
		if errors.As(err, &fe) {
			err = fe.Err // without the setting's name: the file's settings are not the page's
		}
		return nil, coded(codeInvalidWeights, "", fmt.Errorf("weights file: %w", err))
	}
	return m, nil
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
