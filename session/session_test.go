package session

import (
	"context"
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// localImages is an mnist.ImageSource over a Dataset of its own: the page's training images,
// here in Go.
type localImages struct {
	d      *mnist.Dataset
	closed bool
}

func (l *localImages) Images(indices []int32, dst []byte) error { return l.d.Gather(indices, dst) }
func (l *localImages) Prefetch([]int32)                         {}
func (l *localImages) Close() error                             { l.closed = true; return nil }

var parsed struct {
	once sync.Once
	data *Data
	err  error
}

// loaded returns a session with the real MNIST data, configured with settings (a query string).
// Training yields to the other goroutines after every step, as it yields to the JS event loop in
// a browser: under js/wasm, where goroutines take turns, the test's calls come in between.
func loaded(tb testing.TB, settings string) *Session {
	tb.Helper()
	s, err := New(Options{Yield: runtime.Gosched})
	if err != nil {
		tb.Fatal(err)
	}
	train, _ := mnisttest.Sets(tb)
	parsed.once.Do(func() {
		files := map[string][]byte{}
		for _, f := range mnist.KnownFiles {
			if f.Name != mnist.TrainImagesFile {
				files[f.Name] = mnisttest.ReadFile(tb, f.Name)
			}
		}
		parsed.data, parsed.err = ParseData(files, train.Len())
	})
	if parsed.err != nil {
		tb.Fatal(parsed.err)
	}
	if n, m := s.SetData(parsed.data, &localImages{d: train}); n != 60_000 || m != 10_000 {
		tb.Fatalf("SetData: %d training and %d test images, want 60000 and 10000", n, m)
	}
	configure(tb, s, settings)
	return s
}

func configure(tb testing.TB, s *Session, settings string) ConfigResult {
	tb.Helper()
	q, err := ParseSettings(settings)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := s.Configure(q)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// small trains quickly: a narrow network on a few hundred images.
const small = "filters=8,16,16&dense=32,32&batch=32&loss-images=64&seed=3"

// wantCode fails tb unless err has code and key.
func wantCode(tb testing.TB, what string, err error, code, key string) {
	tb.Helper()
	if err == nil {
		tb.Errorf("%s: no error, want code %q", what, code)
		return
	}
	if c, k := ErrorCode(err); c != code || k != key {
		tb.Errorf("%s (%v): code %q, key %q; want %q, %q", what, err, c, k, code, key)
	}
}

// TestTrainSchedule trains two epochs and checks the events the page draws from: the first step's
// progress, every step's point exactly once, and after each epoch the training loss's evaluation,
// then the test images', then the epoch with both results.
func TestTrainSchedule(t *testing.T) {
	s := loaded(t, small+"&train-images=320&epochs=2")
	var events []Event
	res, err := s.Train(TrainOptions{TestImages: 100, Run: 1}, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if res != (TrainResult{Epochs: 2}) {
		t.Errorf("Train: %+v, want 2 epochs, not stopped", res)
	}
	if b, _ := json.Marshal(res); string(b) != `{"epochs":2,"stopped":false}` {
		t.Errorf("Train's JSON: %s", b)
	}
	if p, ok := events[0].(ProgressEvent); !ok || p.Step != 1 || p.Steps != 20 || p.Epochs != 2 {
		t.Fatalf("the first event is %#v, want step 1's progress of 20 steps", events[0])
	}
	var steps []int
	var epochs []EpochEvent
	what := ""    // the evaluations seen since the last epoch, in order: "loss" and "test"
	lastStep := 0 // the step of the latest progress event
	for i, e := range events {
		switch e := e.(type) {
		case ProgressEvent:
			if e.Type != "progress" || len(e.Points) == 0 || int(e.Points[len(e.Points)-1][0]) != e.Step {
				t.Fatalf("event %d: %+v: its points must end at its step", i, e)
			}
			for _, p := range e.Points {
				steps = append(steps, int(p[0]))
				if math.IsNaN(p[1]) || p[1] <= 0 {
					t.Errorf("step %v: loss %v", p[0], p[1])
				}
			}
			lastStep = e.Step
		case EvaluatingEvent:
			if e.Done == 0 {
				if e.What != model.EvalLoss || e.Total != 64 || lastStep%10 != 0 {
					t.Errorf("event %d: %+v, want the training loss of 64 images starting after step %d, an epoch's last", i, e, lastStep)
				}
				what += "[" // an evaluation starts
			}
			if e.Done == e.Total {
				what += string(e.What) + " "
			}
		case EpochEvent:
			if what != "[loss test " {
				t.Errorf("epoch %d: evaluations %q before it, want the loss's, then the test images'", e.Epoch, what)
			}
			what = ""
			if e.Type != "epoch" || e.Step != 10*e.Epoch || e.Epochs != 2 || e.LossImages != 64 || e.Test == nil || e.Test.Images != 100 || e.Digits != nil {
				t.Errorf("epoch event %+v", e)
			}
			if e.Test != nil && (e.Test.Accuracy < 0.1 || e.Test.Accuracy > 1 || !strings.Contains(e.Test.ReportText, "accuracy")) {
				t.Errorf("epoch %d: test accuracy %v, report %q", e.Epoch, e.Test.Accuracy, e.Test.ReportText)
			}
			epochs = append(epochs, e)
		}
	}
	if want := seq(1, 20); !slices.Equal(steps, want) {
		t.Errorf("the events' points cover steps %v, want %v", steps, want)
	}
	if len(epochs) != 2 || events[len(events)-1] != Event(epochs[1]) {
		t.Fatalf("%d epoch events, the last event %T; want 2, the second last", len(epochs), events[len(events)-1])
	}
	// The epoch's test evaluation is the current model's: cellDigits reads it.
	total := 0
	for label := range mnist.NumClasses {
		for predicted := range mnist.NumClasses {
			c, err := s.CellDigits(label, predicted, 2)
			if err != nil {
				t.Fatal(err)
			}
			total += c.Count
			if len(c.Indices) != min(c.Count, 2) || len(c.Images) != len(c.Indices) {
				t.Errorf("cell %d→%d: %d images, %d indices of %d", label, predicted, len(c.Images), len(c.Indices), c.Count)
			}
			if c.Count != epochs[1].Test.Confusion[label][predicted] {
				t.Errorf("cell %d→%d: %d images, the epoch's confusion matrix says %d", label, predicted, c.Count, epochs[1].Test.Confusion[label][predicted])
			}
		}
	}
	if total != 100 {
		t.Errorf("the confusion matrix's cells hold %d test images, want 100", total)
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// running starts a long run on s, and returns once its first progress event has come; steps
// receives the step of every progress event after that, and done Train's answer.
func running(t *testing.T, s *Session, runID int) (steps <-chan int, done <-chan trainAnswer) {
	t.Helper()
	stepc, donec, first := make(chan int, 10000), make(chan trainAnswer, 1), make(chan struct{})
	var once sync.Once
	go func() {
		res, err := s.Train(TrainOptions{TestImages: 100, Run: runID}, func(e Event) {
			if p, ok := e.(ProgressEvent); ok {
				once.Do(func() { close(first) })
				stepc <- p.Step
			}
		})
		donec <- trainAnswer{res, err}
	}()
	select {
	case <-first:
	case a := <-donec:
		t.Fatalf("the run ended before its first step: %+v", a)
	}
	return stepc, donec
}

type trainAnswer struct {
	res TrainResult
	err error
}

// drain returns the steps received so far.
func drain(c <-chan int) []int {
	var s []int
	for {
		select {
		case n := <-c:
			s = append(s, n)
		default:
			return s
		}
	}
}

// TestPauseResumeStop: pause returns at a pause point, after which no step runs until resume;
// while a run is in progress, a second run, an evaluation, an import and a join are refused; stop
// ends a paused run, which answers stopped.
func TestPauseResumeStop(t *testing.T) {
	s := loaded(t, small+"&train-images=6400&epochs=1")
	steps, done := running(t, s, 1)

	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	before := drain(steps)
	time.Sleep(300 * time.Millisecond)
	if after := drain(steps); len(after) > 0 {
		t.Errorf("steps %v ran while paused (the last before the pause: %v)", after, before)
	}
	if err := s.Pause(); err != nil { // pausing a paused run returns at once
		t.Fatal(err)
	}

	_, err := s.Train(TrainOptions{Run: 2}, nil)
	wantCode(t, "a second run while one runs", err, CodeBusy, "")
	_, err = s.Measure(MeasureOptions{Run: 2, Steps: 3})
	wantCode(t, "measure while a run runs", err, CodeBusy, "")
	_, err = s.Evaluate(100)
	wantCode(t, "evaluate while a run runs", err, CodeBusy, "")
	weights, err := s.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportWeights(weights, nil)
	wantCode(t, "import while a run runs", err, CodeBusy, "")
	if err := s.Join(0, 1, nil); err == nil || !strings.Contains(err.Error(), "in progress") {
		t.Errorf("join while a run runs: %v", err)
	}

	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-steps:
	case a := <-done:
		t.Fatalf("no step after resume: the run ended with %+v", a)
	case <-time.After(30 * time.Second):
		t.Fatal("no step after resume")
	}
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || !a.res.Stopped || a.res.Epochs != 0 {
		t.Errorf("a run stopped while paused answered %+v, %v; want stopped after 0 epochs", a.res, a.err)
	}
	wantCode(t, "pause after the run", s.Pause(), CodeNoRun, "")
	wantCode(t, "resume after the run", s.Resume(), CodeNoRun, "")
	wantCode(t, "stop after the run", s.Stop(), CodeNoRun, "")
}

// TestAbort: abort ends a paused run with the reason given, code "aborted", and refuses a run it
// names before that run starts here, but not a later one.
func TestAbort(t *testing.T) {
	s := loaded(t, small+"&train-images=6400&epochs=1")
	_, done := running(t, s, 4)
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	s.Abort(4, "worker 2 of 2 failed")
	a := <-done
	wantCode(t, "an aborted run", a.err, CodeAborted, "")
	if a.err == nil || a.err.Error() != "worker 2 of 2 failed" {
		t.Errorf("the aborted run failed with %v, want the reason given", a.err)
	}

	s.Abort(6, "worker 1 of 2 failed") // before run 6 starts here
	_, err := s.Train(TrainOptions{Run: 5}, nil)
	wantCode(t, "a run aborted before it started", err, CodeAborted, "")
	_, err = s.Measure(MeasureOptions{Run: 6, Steps: 1})
	wantCode(t, "a measure aborted before it started", err, CodeAborted, "")
	m, err := s.Measure(MeasureOptions{Run: 7, Steps: 2})
	if err != nil || m.ImagesPerSec <= 0 || m.Team != 1 {
		t.Errorf("a later run: %+v, %v; want a speed", m, err)
	}
	if b, _ := json.Marshal(m); !strings.HasPrefix(string(b), `{"imagesPerSec":`) || !strings.HasSuffix(string(b), `,"team":1}`) {
		t.Errorf("measure's JSON: %s", b)
	}
}

// TestDivergedRunRestoresTheModel: a run whose loss diverges fails with code "diverged", key "lr",
// and the model from before it is the current one again.
func TestDivergedRunRestoresTheModel(t *testing.T) {
	s := loaded(t, small+"&train-images=640&epochs=1&lr=100")
	before, err := s.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Train(TrainOptions{TestImages: 10, Run: 1}, nil)
	wantCode(t, "a run at lr 100", err, CodeDiverged, "lr")
	after, err := s.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Error("after a diverged run, the current model is not the one from before it")
	}
}

// TestTrainDropsTheModelsBefore: a training run keeps the model before it as its weights file only,
// and drops the stored runs' models Inspect loaded: both are collected while the run trains. Kept
// live, the model before a run (its graphs, Adam's moments, a team's vectors) was outside the
// worker's memory limit, and every run after a page's first trained half as slow again.
func TestTrainDropsTheModelsBefore(t *testing.T) {
	s := loaded(t, small+"&train-images=128&epochs=1")
	if _, err := s.Train(TrainOptions{TestImages: 10, Run: 1}, nil); err != nil {
		t.Fatal(err)
	}
	first := weak.Make(s.model())
	data, err := s.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.LoadStored("run-1", func() ([]byte, error) { return data, nil })
	if err != nil {
		t.Fatal(err)
	}
	stored := weak.Make(st.m)
	st = Stored{}
	var checked bool
	_, err = s.Train(TrainOptions{TestImages: 10, Run: 2}, func(e Event) {
		if checked {
			return
		}
		checked = true
		runtime.GC()
		if first.Value() != nil {
			t.Error("the model before the run is still live while the run trains")
		}
		if stored.Value() != nil {
			t.Error("a model Inspect loaded is still live while the run trains")
		}
	})
	if err != nil || !checked {
		t.Fatalf("the second run: %v, events %v", err, checked)
	}
}

// fakePeers is a worker of a team that never trains with it: enough for the team's checks.
type fakePeers struct {
	index, count int
	closed       bool
}

func (p *fakePeers) Index() int { return p.index }
func (p *fakePeers) Count() int { return p.count }
func (p *fakePeers) Shard(context.Context, int, int) *model.Shard {
	panic("a worker left out of the team trains")
}
func (p *fakePeers) Close() { p.closed = true }

// TestTeam: a worker the run's team leaves out answers idle at once; a team larger than the
// workers that joined, or a team run without its number, is refused; join closes the peers it
// replaces.
func TestTeam(t *testing.T) {
	s := loaded(t, small+"&train-images=320&epochs=1")
	for _, c := range []struct{ index, count, ports int }{{0, 1, 0}, {0, 3, 2}, {2, 3, 1}} {
		if n, err := JoinPorts(c.index, c.count); err != nil || n != c.ports {
			t.Errorf("JoinPorts(%d, %d) = %d, %v; want %d", c.index, c.count, n, err, c.ports)
		}
	}
	for _, c := range [][2]int{{3, 2}, {-1, 2}, {0, 0}, {0, model.VirtualShards + 1}} {
		if _, err := JoinPorts(c[0], c[1]); err == nil {
			t.Errorf("JoinPorts(%d, %d): no error", c[0], c[1])
		}
		if err := s.Join(c[0], c[1], nil); err == nil {
			t.Errorf("Join(%d, %d): no error", c[0], c[1])
		}
	}
	p := &fakePeers{index: 1, count: 2}
	if err := s.Join(1, 2, func() (Peers, error) { return p, nil }); err != nil {
		t.Fatal(err)
	}
	res, err := s.Train(TrainOptions{Run: 1, Team: 1}, func(Event) { t.Error("an idle worker sent an event") })
	if err != nil || !res.Idle {
		t.Errorf("worker 1 in a team of 1: %+v, %v; want idle", res, err)
	}
	if b, _ := json.Marshal(res); string(b) != `{"idle":true}` {
		t.Errorf("an idle run's JSON: %s", b)
	}
	if m, err := s.Measure(MeasureOptions{Run: 1, Team: 1, Steps: 3}); err != nil || !m.Idle {
		t.Errorf("measure on worker 1 in a team of 1: %+v, %v; want idle", m, err)
	}
	// The page measures a worker alone on its last worker: here worker 1 measures, alone.
	if m, err := s.Measure(MeasureOptions{Run: 1, Team: 1, Steps: 2, Worker: 1}); err != nil || m.Idle || m.Team != 1 || !(m.ImagesPerSec > 0) {
		t.Errorf("measure alone on worker 1: %+v, %v; want a worker alone's speed", m, err)
	}
	for _, o := range []MeasureOptions{{Team: 2, Worker: 1}, {Team: 1, Worker: 2}, {Team: 1, Worker: -1}} {
		o.Run, o.Steps = 1, 3
		if _, err := s.Measure(o); err == nil || !strings.Contains(err.Error(), "cannot train alone") {
			t.Errorf("measure %+v: %v; want an error that says who cannot train alone", o, err)
		}
	}
	if _, err := s.Train(TrainOptions{Run: 1, Team: 3}, nil); err == nil || err.Error() != "team: 3 workers of the 2 that joined" {
		t.Errorf("a team of 3 of 2: %v", err)
	}
	if err := s.Join(0, 2, func() (Peers, error) { return &fakePeers{index: 0, count: 2}, nil }); err != nil {
		t.Fatal(err)
	}
	if !p.closed {
		t.Error("join left the peers it replaced open")
	}
	if _, err := s.Train(TrainOptions{Team: 2}, nil); err == nil || !strings.Contains(err.Error(), "run's number") {
		t.Errorf("a team run without its number: %v", err)
	}
	// Alone again, a worker trains with no peers at all, and sends its events.
	if err := s.Join(0, 1, func() (Peers, error) { t.Error("a worker alone connects"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
	events := 0
	if res, err := s.Train(TrainOptions{TestImages: 10}, func(Event) { events++ }); err != nil || res.Epochs != 1 || events == 0 {
		t.Errorf("alone: %+v, %v, %d events", res, err, events)
	}
}

// TestMemoryLimitRoom: every worker that trains, alone or in a team, has half its estimated peak
// of room above it for simplego's buffer pools, and measures with it too, but for a worker of
// several measuring alone, whose room would come beside the others' memory; worker 0 of a team
// has room for what it combines as well (memory.go).
func TestMemoryLimitRoom(t *testing.T) {
	cfg := model.DefaultConfig()
	peak1 := cfg.ReplicaMemoryEstimate(1).Peak
	peak2 := cfg.ReplicaMemoryEstimate(2).Peak / 2
	base := int64(mnistBytes + memoryHeadroom)
	combine2 := cfg.CombineBytes(2)
	if want := int64(4 * 2 * cfg.NumParams()); combine2 != want { // the sum of the other worker's two virtual shards, and the total
		t.Errorf("CombineBytes(2) = %d, want %d", combine2, want)
	}
	for _, c := range []struct {
		name      string
		peers     Peers
		team      int
		measuring bool
		want      int64
	}{
		{"the page's only worker", nil, 1, false, base + peak1 + peak1/2},
		{"the page's only worker, measuring", nil, 1, true, base + peak1 + peak1/2},
		{"worker 1 of two, training", &fakePeers{index: 1, count: 2}, 2, false, base + peak2 + peak2/2},
		{"worker 1 of two, measuring", &fakePeers{index: 1, count: 2}, 2, true, base + peak2 + peak2/2},
		// Worker 0 combines the team's gradients: room for them too.
		{"worker 0 of two, training", &fakePeers{count: 2}, 2, false, base + peak2 + peak2/2 + combine2},
		{"worker 0 of two, measuring", &fakePeers{count: 2}, 2, true, base + peak2 + peak2/2 + combine2},
		{"a worker of two, training alone", &fakePeers{count: 2}, 1, false, base + peak1 + peak1/2},
		{"a worker of two, measuring alone", &fakePeers{count: 2}, 1, true, base + peak1},
	} {
		s := &Session{cfg: cfg, peers: c.peers, team: c.team, measuring: c.measuring}
		if got := s.memoryLimit(); got != c.want {
			t.Errorf("%s: limit %d, want %d", c.name, got, c.want)
		}
	}
}
