package session

// This file holds training runs and their evaluation schedule (Train), the speed measurement of a
// team (Measure), and the evaluations of the current model (Evaluate, CellDigits).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
	"github.com/mnist-trainer/mnist/report"
)

// progressInterval is the shortest time between two progress events. The page draws a run's
// figures once a second (web/training.js), and every message wakes its main thread, which issue
// 16 holds under 3% of a core during training: four a second keep the figures fresh at each
// drawing. Every event carries all the steps since the last one, so the chart misses none.
const progressInterval = 250 * time.Millisecond

// TrainOptions are a training run's options, besides the configuration (Configure).
type TrainOptions struct {
	// TestImages is how many test images to evaluate after each epoch: the first ones; 0, all.
	TestImages int
	// Run is the page's number of the run, the same on every worker, increasing (Abort). A team
	// of several workers needs one (≥ 1).
	Run int
	// Team is how many of the joined workers train, the first ones; 0, all of them. The others
	// answer idle at once. The bits are the same whatever the team.
	Team int
	// Digits, when set, are My digits: evaluated after each epoch (EpochEvent.Digits) and mixed
	// into training as the mix-digits setting says. Every worker must get the same.
	Digits *mnist.Dataset
}

// Event is an event of a training run, passed to Train's onEvent: a ProgressEvent, an
// EvaluatingEvent or an EpochEvent. Its JSON is what the page's onEvent receives.
type Event interface{ eventType() string }

// ProgressEvent follows training steps: the first, the last of each epoch, and the latest
// whenever progressInterval has passed since the previous event.
type ProgressEvent struct {
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

// EvaluatingEvent follows the evaluations after an epoch: one as each starts (Done 0, for the
// training loss), then after their batches, at most every progressInterval, and after the last.
type EvaluatingEvent struct {
	Type   string        `json:"type"` // "evaluating"
	What   model.EvalSet `json:"what"` // "loss": the training loss after the epoch; "test": the test images
	Done   int           `json:"done"`
	Total  int           `json:"total"`
	Epoch  int           `json:"epoch"`
	Epochs int           `json:"epochs"`
}

// EpochEvent ends each epoch, with its evaluations.
type EpochEvent struct {
	Type       string      `json:"type"` // "epoch"
	Epoch      int         `json:"epoch"`
	Epochs     int         `json:"epochs"`
	Step       int         `json:"step"` // the last step of the epoch, where the chart marks it
	TrainLoss  float64     `json:"trainLoss"`
	LossImages int         `json:"lossImages"`
	DurationMs int64       `json:"durationMs"`
	Test       *TestResult `json:"test"` // nil when the run was stopped during the evaluation

	// Digits is the evaluation of My digits, when the run has some (TrainOptions.Digits).
	Digits *DigitsResult `json:"digits"`
}

func (ProgressEvent) eventType() string   { return "progress" }
func (EvaluatingEvent) eventType() string { return "evaluating" }
func (EpochEvent) eventType() string      { return "epoch" }

// TrainResult is how a training run ended: idle (this worker was not in its team), stopped, or
// done, after Epochs epochs.
type TrainResult struct {
	Idle    bool
	Stopped bool
	Epochs  int
}

// MarshalJSON writes {idle: true}, or {stopped, epochs}.
func (r TrainResult) MarshalJSON() ([]byte, error) {
	if r.Idle {
		return json.Marshal(map[string]any{"idle": true})
	}
	return json.Marshal(map[string]any{"stopped": r.Stopped, "epochs": r.Epochs})
}

// TestResult is an evaluation on the first Images test images, as the page shows it.
type TestResult struct {
	Images     int                    `json:"images"`
	Loss       float64                `json:"loss"`
	Accuracy   float64                `json:"accuracy"`
	Report     report.Report          `json:"report"`
	ReportText string                 `json:"reportText"` // sklearn's text layout
	Confusion  report.ConfusionMatrix `json:"confusion"`
}

func newTestResult(ev *model.Evaluation) *TestResult {
	return &TestResult{Images: len(ev.Predictions), Loss: ev.Loss, Accuracy: ev.Report.Accuracy,
		Report: ev.Report, ReportText: ev.Report.String(), Confusion: ev.Confusion}
}

// Train trains a fresh model from the configuration and makes it the current one, evaluating it
// after each epoch on the training loss's images and opts.TestImages test images (and My
// digits). onEvent receives the run's events on the training goroutine; on a worker of a team
// other than the first, none, since every worker computes the same.
//
// A stopped run ends with Stopped; an aborted one (Abort) fails with code "aborted". A run whose
// loss diverges fails with code "diverged", and the model from before the run comes back.
func (s *Session) Train(opts TrainOptions, onEvent func(Event)) (TrainResult, error) {
	team, idle, err := s.begin(opts.Run, opts.Team, 0, false)
	if err != nil || idle {
		return TrainResult{Idle: idle}, err
	}
	testImages, err := checkTestImages(opts.TestImages, s.test)
	if err != nil {
		s.mu.Unlock()
		return TrainResult{}, err
	}
	cfg, train, test, peers := s.cfg, s.train, s.test.Slice(0, testImages), s.peers
	if peers != nil && opts.Run < 1 {
		s.mu.Unlock()
		return TrainResult{}, errors.New("train: several workers need the run's number (run ≥ 1)")
	}
	// Whole batches are the estimate's; a worker of a team trains on its share, and needs less.
	if err := cfg.CheckMemory(model.BrowserMemoryLimit, BrowserRoom); err != nil {
		s.mu.Unlock()
		return TrainResult{}, err // code "memory", with the setting that drives it
	}
	// The model before the run comes back if the run diverges. It is kept as its weights file
	// (1.5 MB for the notebook's network), which fits in memoryHeadroom. Kept as the model, with
	// its compiled graphs, Adam's moments and a team's vectors, it stayed live beside the run's
	// model, outside the memory limit (memoryLimit counts one model), and the collector then ran
	// so often that every run after a page's first took 1.4 to 1.6 times as long a step, in every
	// engine (a quick run's 100 steps: Chromium 4.3–4.5 s against 2.7–2.9; BENCHMARKS.md).
	before, err := weightsFile(s.current)
	if err != nil {
		s.mu.Unlock()
		return TrainResult{}, err
	}
	beforeEval := s.eval
	// The stored runs' models Inspect loaded go too: the page sends a model's file again when it
	// asks for one no longer loaded (LoadStored).
	s.inspected.drop()
	m, r, ctx, err := s.startRun(opts.Run, cfg, func(m *model.Model) { s.current, s.eval = m, nil })
	if err != nil {
		return TrainResult{}, err
	}
	defer r.cancel(nil)
	defer s.endRun(r)
	sh := teamShard(ctx, peers, opts.Run, team)
	// Every worker reports the same progress and results: only the first one tells the page.
	emit := func(e Event) {
		if (sh == nil || sh.Index == 0) && onEvent != nil {
			onEvent(e)
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
		Digits:  opts.Digits,
		Control: r.control,
		Shard:   sh,
		OnProgress: func(p model.Progress) {
			lastStep = p.Step
			points = append(points, [3]float64{float64(p.Step), p.Loss, p.SmoothLoss})
			epochEnd := p.Step%(p.Steps/p.Epochs) == 0
			if now := time.Now(); epochEnd || p.Step == 1 || now.Sub(lastEmit) >= progressInterval {
				lastEmit = now
				emit(ProgressEvent{Type: "progress", Step: p.Step, Steps: p.Steps, Epoch: p.Epoch, Epochs: p.Epochs,
					Loss: p.Loss, SmoothLoss: p.SmoothLoss, ImagesPerSec: finite(p.ImagesPerSec),
					ElapsedMs: p.Elapsed.Milliseconds(), EtaMs: p.ETA.Milliseconds(), Points: points})
				points = nil
			}
			if epochEnd {
				emit(EvaluatingEvent{Type: "evaluating", What: model.EvalLoss, Total: lossImages, Epoch: p.Epoch, Epochs: p.Epochs})
				lastEmit = time.Now()
			}
			s.yield()
			if !epochEnd { // the epoch's evaluation starts without a pause point: its first batch ends at one
				r.atPausePoint()
			}
		},
		OnEvaluating: func(p model.EvalProgress) {
			if now := time.Now(); now.Sub(lastEmit) >= progressInterval || p.Done == p.Total {
				lastEmit = now
				emit(EvaluatingEvent{Type: "evaluating", What: p.What, Done: p.Done, Total: p.Total,
					Epoch: p.Epoch, Epochs: p.Epochs})
			}
			s.yield() // pause, stop and predictions get their turn between evaluation batches
			r.atPausePoint()
		},
		OnEpoch: func(res model.EpochResult) {
			ev := EpochEvent{Type: "epoch", Epoch: res.Epoch, Epochs: cfg.Epochs, Step: lastStep,
				TrainLoss: res.TrainLoss, LossImages: res.LossImages, DurationMs: res.Duration.Milliseconds()}
			ev.Digits = newDigitsResult(res.Digits)
			if res.Test != nil {
				ev.Test = newTestResult(res.Test)
				s.mu.Lock()
				s.eval = res.Test
				s.mu.Unlock()
			}
			emit(ev)
		},
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return TrainResult{}, cause // aborted: another worker failed
	}
	switch {
	case errors.Is(err, context.Canceled):
		return TrainResult{Stopped: true, Epochs: len(results)}, nil
	case errors.Is(err, model.ErrDiverged):
		// Weights that diverged are of no use, and would show as noise (kernels) or NaN
		// (predictions): the model before the run comes back.
		back, loadErr := model.Load(s.backend, before)
		if loadErr != nil { // the file Save wrote: never seen
			return TrainResult{}, fmt.Errorf("%w, and the model from before this run could not come back: %v", err, loadErr)
		}
		s.mu.Lock()
		if s.current == m {
			s.current, s.eval = back, beforeEval
		}
		s.mu.Unlock()
		return TrainResult{}, fmt.Errorf("%w. The model is back to the one from before this run", err) // code "diverged"
	case err != nil:
		return TrainResult{}, err
	}
	return TrainResult{Epochs: len(results)}, nil
}

// MeasureOptions are Measure's: the run's number and team, as TrainOptions', and how many steps
// to time (1 to 100). With a team of one, Worker is the worker that measures alone (by default
// the first): the page measures a worker alone on its last, the one it then replaces, since a
// worker keeps the memory of a lone worker's share of the batch for good.
type MeasureOptions struct {
	Run, Team, Steps, Worker int
}

// MeasureResult is a speed measurement: this worker was idle (not in the team), the page stopped
// it first, or the team trained ImagesPerSec.
type MeasureResult struct {
	Idle, Stopped bool
	ImagesPerSec  float64
	Team          int
}

// MarshalJSON writes {idle: true}, {stopped: true} or {imagesPerSec, team}.
func (r MeasureResult) MarshalJSON() ([]byte, error) {
	switch {
	case r.Idle:
		return json.Marshal(map[string]any{"idle": true})
	case r.Stopped:
		return json.Marshal(map[string]any{"stopped": true})
	}
	return json.Marshal(map[string]any{"imagesPerSec": r.ImagesPerSec, "team": r.Team})
}

// Measure times opts.Steps training steps of the notebook's network at batch 64
// (model.DefaultConfig), after one that compiles, on a model of its own that it then drops, by
// the run's team: the page measures, once per browser,
// which team trains fastest (web/team.js), since messages between workers cost 40 times more in
// some engines than in others. Stop stops it, as it stops a run.
func (s *Session) Measure(opts MeasureOptions) (MeasureResult, error) {
	steps := opts.Steps
	if steps < 1 || steps > 100 {
		return MeasureResult{}, fmt.Errorf("measure: steps must be 1 to 100 (%d)", steps)
	}
	team, idle, err := s.begin(opts.Run, opts.Team, opts.Worker, true)
	if err != nil || idle {
		return MeasureResult{Idle: idle}, err
	}
	// The notebook's network, whatever the settings: the team chosen is kept for this browser and
	// every network, and the page measures as soon as MNIST is loaded (web/team.js, prepare), while
	// the student may change the settings between two measurements.
	cfg, train, peers := model.DefaultConfig(), s.train, s.peers
	cfg.TrainImages, cfg.Epochs = 0, 1 // steps enough
	m, r, ctx, err := s.startRun(opts.Run, cfg, nil)
	if err != nil {
		return MeasureResult{}, err
	}
	defer r.cancel(nil)
	defer s.endRun(r)
	var start time.Time
	var elapsed time.Duration // set once the last timed step has ended
	// Every worker of the team stops after the same step, so that none waits for another's sums.
	_, err = m.Train(ctx, train, model.TrainOptions{Shard: teamShard(ctx, peers, opts.Run, team), Control: r.control,
		OnProgress: func(p model.Progress) {
			switch p.Step {
			case 1:
				start = time.Now()
			case steps + 1:
				elapsed = time.Since(start)
				r.cancel(nil)
			}
			s.yield()
		}})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return MeasureResult{}, cause // aborted: another worker failed
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return MeasureResult{}, err
	}
	if elapsed == 0 {
		return MeasureResult{Stopped: true}, nil // the page's stop, before the last timed step
	}
	return MeasureResult{ImagesPerSec: finite(float64(steps*cfg.BatchSize) / elapsed.Seconds()), Team: team}, nil
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// checkTestImages turns the page's test-image count into a number of images; 0 means all.
func checkTestImages(n int, test *mnist.Dataset) (int, error) {
	if test == nil {
		return 0, errNotLoaded
	}
	if n == 0 {
		return test.Len(), nil
	}
	if n < 0 || n > test.Len() {
		return 0, Coded(CodeInvalidSetting, "test-images", fmt.Errorf("test-images: %d is outside 0..%d (0 means all)", n, test.Len()))
	}
	return n, nil
}

// Evaluate evaluates the current model on the first testImages test images (0: all), the
// Evaluate button's report; training runs evaluate after each epoch. It yields between batches,
// so that predictions, kernels and feature maps still answer: 10,000 images take minutes in a
// browser. During a run it is refused: the report updates after each epoch.
func (s *Session) Evaluate(testImages int) (*TestResult, error) {
	s.mu.Lock()
	busy, m := s.run != nil, s.current
	n, err := checkTestImages(testImages, s.test)
	test := s.test.Slice(0, n)
	s.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case busy:
		return nil, Coded(CodeBusy, "", errors.New("training is in progress: the report updates after each epoch"))
	}
	ev, err := m.EvaluateEach(test, func(int, int) error {
		s.yield()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.current == m {
		s.eval = &ev
	}
	s.mu.Unlock()
	return newTestResult(&ev), nil
}

// CellDigits are the test images of one cell of the confusion matrix.
type CellDigits struct {
	Count   int      `json:"count"`
	Indices []int    `json:"indices"`
	Images  []Pixels `json:"images"`
}

// CellDigits returns the test images of label that the latest evaluation of the current model
// predicted as predicted: their count, and the first limit of them.
func (s *Session) CellDigits(label, predicted, limit int) (CellDigits, error) {
	s.mu.Lock()
	ev, test := s.eval, s.test
	s.mu.Unlock()
	if ev == nil {
		return CellDigits{}, Coded(CodeNoEvaluation, "", errors.New("there is no evaluation yet: train or evaluate first"))
	}
	result := CellDigits{Indices: []int{}, Images: []Pixels{}}
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
