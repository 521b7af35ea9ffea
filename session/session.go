// Package session is the trainer's session: one trainer's state across runs, and what the page's
// worker API does, minus JavaScript. It holds the MNIST data, the configuration of the next run,
// the current model and its latest evaluation, and the run in progress, with its control (pause,
// resume, stop, abort) and the schedule of its evaluations; it parses settings, checks locks and
// weights files, and answers with the plain structs the page receives as JSON.
//
// It builds natively and for js/wasm, and imports nothing of JavaScript: wasm/ holds the adapters
// that turn JS values into its arguments and its results into JS values (wasm/wasm_js.go lists
// the API), as tailscale's cmd/tsconnect does over its native core. What only a browser has comes
// in through Options (a turn of the event loop, the memory limit) and interfaces (Peers, the other
// workers of a team; mnist.ImageSource, the training images the page keeps).
//
// Every error a call returns carries the code the page branches on (ErrorCode; web/protocol.md,
// "Errors").
//
// Calls may come from goroutines that interleave; a Session guards its state, and the model
// serialises its own work.
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// Options are what a Session gets from where it runs.
type Options struct {
	// Yield, when set, gives the JS event loop a turn: training calls it after every step and
	// every evaluation batch, so that pause, stop and predictions arrive while it runs
	// (golang/go#39620). Native callers leave it nil.
	Yield func()
	// SetMemoryLimit, when set, is given the soft memory limit the session's work needs
	// (runtime/debug.SetMemoryLimit in a browser worker; memory.go). Nil leaves Go's limit alone.
	SetMemoryLimit func(int64)
}

// Peers is this worker's place among the page's workers that train together (Join), and the way
// to them: wasm/peers_js.go, over MessagePorts.
type Peers interface {
	// Index is this worker's number, Count how many joined.
	Index() int
	Count() int
	// Shard returns this worker's model.Shard for training run run, trained by the first team
	// (≥ 2) workers. Its exchanges' waits must fail with ctx's cause once ctx is done, so that a
	// stopped or aborted run never waits for a worker that has gone.
	Shard(ctx context.Context, run, team int) *model.Shard
	// Close stops listening.
	Close()
}

// Session is one trainer's state across runs. Its methods are the worker API's calls.
type Session struct {
	backend        backends.Backend
	yield          func()
	setMemoryLimit func(int64)

	mu          sync.Mutex
	train, test *mnist.Dataset    // nil until SetData
	images      mnist.ImageSource // where train's images are
	team        int               // how many workers trained the latest run (limitMemory)
	measuring   bool              // the latest run was a measurement (limitMemory)
	cfg         model.Config      // the configuration of the next training run
	current     *model.Model      // what predictions, kernels, feature maps and exports use
	run         *run              // the training run in progress, or nil
	eval        *model.Evaluation
	peers       Peers // the other workers, when this is one of several (Join); nil alone
	aborted     int   // the latest run the page aborted, and why
	abortErr    error

	inspected inspectCache // the stored runs' models Inspect loaded, beside the current one
}

// New returns a session with the notebook's configuration and an untrained model of it, so that
// kernels, feature maps and the drawing pad show something (random) before the first run.
func New(opts Options) (*Session, error) {
	backend, err := model.GoBackend()
	if err != nil {
		return nil, err
	}
	cfg := model.DefaultConfig()
	m, err := model.New(backend, cfg)
	if err != nil {
		return nil, err
	}
	s := &Session{backend: backend, yield: opts.Yield, setMemoryLimit: opts.SetMemoryLimit, cfg: cfg, current: m}
	if s.yield == nil {
		s.yield = func() {}
	}
	s.limitMemory() // before the data, whose parsing is the first peak
	return s, nil
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

// resume lets a paused run go on; pause calls still waiting return, and their pause is cancelled.
func (r *run) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answerPauses()
	r.control.Resume()
}

// answerPauses lets the waiting pause calls return. Callers hold r.mu.
func (r *run) answerPauses() {
	for _, c := range r.pauses {
		close(c)
	}
	r.pauses = nil
}

// Data is the MNIST data of a session, checked and parsed, but for the training images' pixels,
// which the page keeps (UnpackImages).
type Data struct {
	trainLabels []byte
	test        *mnist.Dataset
}

// ParseData checks the MNIST files other than the training images (mnist.VerifyFile: size and
// SHA-256; an error names the bad file), by name, and parses them; count is how many training
// images the page holds, which must match the training labels.
func ParseData(files map[string][]byte, count int) (*Data, error) {
	for _, f := range mnist.KnownFiles {
		if f.Name == mnist.TrainImagesFile {
			continue
		}
		data, ok := files[f.Name]
		if !ok {
			return nil, fmt.Errorf("%s is missing", f.Name)
		}
		if err := mnist.VerifyFile(f.Name, data); err != nil {
			return nil, err
		}
	}
	labels, err := mnist.ParseLabels(bytes.NewReader(files[mnist.TrainLabelsFile]))
	if err != nil {
		return nil, err
	}
	if count != len(labels) {
		return nil, fmt.Errorf("mnist: the page holds %d training images, but there are %d training labels", count, len(labels))
	}
	test, err := mnist.LoadDatasetRuns(bytes.NewReader(files[mnist.TestImagesFile]), bytes.NewReader(files[mnist.TestLabelsFile]))
	if err != nil {
		return nil, err
	}
	return &Data{trainLabels: labels, test: test}, nil
}

// SetData makes d, with the training images' pixels in images, the session's data, and returns
// the number of training and test images. The previous data's images are closed, if they are an
// io.Closer.
func (s *Session) SetData(d *Data, images mnist.ImageSource) (train, test int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.images.(io.Closer); ok {
		_ = c.Close()
	}
	s.images = images
	s.train, s.test = mnist.RemoteDataset(d.trainLabels, images), d.test
	return s.train.Len(), s.test.Len()
}

// UnpackImages checks a training images file (mnist.VerifyFile) and returns its pixels as runs
// (mnist.ParseImageRuns), for the page, which keeps them for every worker: the session keeps
// nothing of them.
func UnpackImages(data []byte) ([]byte, error) {
	if err := mnist.VerifyFile(mnist.TrainImagesFile, data); err != nil {
		return nil, err
	}
	runs, _, err := mnist.ParseImageRuns(bytes.NewReader(data))
	return runs, err
}

// Configure sets the configuration of the next training run from settings (model.FromQuery: keys
// are model.Fields keys and "preset", and other keys are ignored, so the page may pass its whole
// URL query; an invalid value fails with model's typed error, which names the setting). A
// configuration too large for the tab's memory is taken, so that the page can show its summary
// and why it is refused (Summary.Memory.Refusal); Train refuses it.
func (s *Session) Configure(settings url.Values) (ConfigResult, error) {
	cfg, err := model.FromQuery(settings)
	if err != nil {
		return ConfigResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.limitMemory()
	return NewConfigResult(cfg), nil
}

// Describe answers what Configure would for the same settings, and changes nothing: the page
// estimates runs it has queued without touching the configuration of the next one.
func Describe(settings url.Values) (ConfigResult, error) {
	cfg, err := model.FromQuery(settings)
	if err != nil {
		return ConfigResult{}, err
	}
	return NewConfigResult(cfg), nil
}

// JoinPorts checks that worker index of count can exist, and says how many ports to the others
// it needs: on worker 0 one to each other worker, on the others one to worker 0 (none alone).
func JoinPorts(index, count int) (int, error) {
	if count < 1 || index < 0 || index >= count {
		return 0, fmt.Errorf("join: worker %d of %d does not exist", index, count)
	}
	if count > model.VirtualShards {
		// Each worker takes one virtual shard of every batch at least (the page's limit too).
		return 0, fmt.Errorf("join: %d workers; a team has at most %d", count, model.VirtualShards)
	}
	switch {
	case count == 1:
		return 0, nil
	case index == 0:
		return count - 1, nil
	}
	return 1, nil
}

// Join makes this session worker index of count, which train together (model.Shard). connect
// makes the Peers, when count > 1; it is called only once nothing refuses the join, and the
// previous Peers are closed then.
func (s *Session) Join(index, count int, connect func() (Peers, error)) error {
	if _, err := JoinPorts(index, count); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return errors.New("join: a training run is in progress")
	}
	if s.peers != nil {
		s.peers.Close()
		s.peers = nil
	}
	if count > 1 {
		p, err := connect()
		if err != nil {
			return err
		}
		s.peers = p
	}
	s.limitMemory() // one of several (memoryLimit)
	return nil
}

// Abort ends training run runID, and any before it, with the reason msg (another worker failed),
// so that Train fails with code "aborted": an exchange waiting for that worker fails at once. It also
// refuses those runs if they have not started here yet.
func (s *Session) Abort(runID int, msg string) {
	cause := Coded(CodeAborted, "", errors.New(msg))
	s.mu.Lock()
	defer s.mu.Unlock()
	if runID > s.aborted {
		s.aborted, s.abortErr = runID, cause
	}
	if s.run != nil && s.run.id <= runID {
		s.run.cancel(cause)
	}
}

// errNotLoaded refuses what needs the MNIST data before SetData.
var errNotLoaded = Coded(CodeNotLoaded, "", errors.New("the MNIST data is not loaded yet"))

// canStart says why run runID (Train's or Measure's) cannot start on this worker, if it cannot:
// the data is not loaded, another run is in progress, or the page aborted runID before it started
// here (another worker failed). Callers hold s.mu.
func (s *Session) canStart(runID int) error {
	switch {
	case s.train == nil:
		return errNotLoaded
	case s.run != nil:
		return Coded(CodeBusy, "", errors.New("a training run is already in progress"))
	case runID <= s.aborted && s.abortErr != nil:
		return s.abortErr // aborted before it started here
	}
	return nil
}

// startRun builds a fresh model of cfg for run id and makes the run current, calling set (if
// any) with the model to change the rest of the session's state at the same time. Called with
// s.mu held (begin), it unlocks it, model or error. The caller ends the run with r.cancel and
// endRun; ctx is the run's context, which r.cancel cancels.
func (s *Session) startRun(id int, cfg model.Config, set func(*model.Model)) (*model.Model, *run, context.Context, error) {
	defer s.mu.Unlock()
	m, err := model.New(s.backend, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := newRun(id, cancel)
	s.run = r
	if set != nil {
		set(m)
	}
	return m, r, ctx, nil
}

// endRun frees the worker for the next run when run r ends, and lets whoever waits for its end
// (pause, stop) go on.
func (s *Session) endRun(r *run) {
	s.mu.Lock()
	s.run = nil
	s.mu.Unlock()
	close(r.finished)
}

// begin readies this worker for run runID (a training run, or a measurement when measuring) in a
// team of the size asked (0, every joined worker; alone, for a team of one, the worker that trains):
// it checks that nothing else runs and sets the memory limit for that team, and returns the team's
// size. Unless it returns an error or idle (this worker is not in the team), it returns with s.mu
// held.
func (s *Session) begin(runID, team, alone int, measuring bool) (size int, idle bool, err error) {
	size, idle, err = s.runTeam(team, alone)
	if err != nil || idle {
		return size, idle, err
	}
	s.mu.Lock()
	if err := s.canStart(runID); err != nil {
		s.mu.Unlock()
		return 0, false, err
	}
	s.team, s.measuring = size, measuring
	s.limitMemory()
	return size, false, nil
}

// runTeam checks a run's team: how many of the joined workers take part, the first ones (0: all
// of them), or for a team of one, worker alone. A team of one trains alone, with the same bits as
// any team. idle is true on a worker the run leaves out, which answers at once.
func (s *Session) runTeam(team, alone int) (size int, idle bool, err error) {
	s.mu.Lock()
	peers := s.peers
	s.mu.Unlock()
	count, index := 1, 0
	if peers != nil {
		count, index = peers.Count(), peers.Index()
	}
	if team == 0 {
		team = count
	}
	if team < 1 || team > count {
		return 0, false, fmt.Errorf("team: %d workers of the %d that joined", team, count)
	}
	if alone != 0 && (team != 1 || alone < 0 || alone >= count) {
		return 0, false, fmt.Errorf("worker: %d cannot train alone in a team of %d of the %d workers that joined", alone, team, count)
	}
	if team == 1 {
		return 1, index != alone, nil
	}
	return team, index >= team, nil
}

// teamShard is this worker's part of run runID by team, or nil alone.
func teamShard(ctx context.Context, peers Peers, runID, team int) *model.Shard {
	if peers == nil || team < 2 {
		return nil // alone: the same bits as any team (model.Shard), with no exchanges
	}
	return peers.Shard(ctx, runID, team)
}

// control returns the run in progress.
func (s *Session) control() (*run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return nil, Coded(CodeNoRun, "", errors.New("no training run is in progress"))
	}
	return s.run, nil
}

// Pause pauses the run in progress. It returns once the step or evaluation batch under way has
// ended and its event has been sent, so that the page sees no step after it, or once the run ends.
func (s *Session) Pause() error {
	r, err := s.control()
	if err != nil {
		return err
	}
	if r.control.Paused() {
		return nil
	}
	select {
	case <-r.askPause():
	case <-r.finished:
	}
	return nil
}

// Resume lets the paused run go on; a Pause still waiting returns, and its pause is cancelled.
func (s *Session) Resume() error {
	r, err := s.control()
	if err != nil {
		return err
	}
	r.resume()
	return nil
}

// Stop stops the run in progress, paused or not: Train then reports it stopped.
func (s *Session) Stop() error {
	r, err := s.control()
	if err != nil {
		return err
	}
	r.cancel(nil)
	return nil
}

// model returns the current model.
func (s *Session) model() *model.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}
