//go:build js && wasm

// Command wasm is the trainer's engine in the browser. It runs inside each of the page's dedicated
// Web Workers (web/worker.js) and is the only code that touches JavaScript, through hack-pad/safejs.
// It is a thin layer over package session, where the trainer's logic is (run control, settings
// and locks, summaries, the evaluation schedule, weights): each function below converts its
// arguments from JS values, calls the session, and converts its result (trainer_js.go,
// digits_js.go). What only a browser has stays here: Promises and errors (bridge_js.go), the
// ports between workers (peers_js.go, the session's Peers) and to the page's training
// images (trainset_js.go, an mnist.ImageSource).
//
// On start it calls globalThis.goReady({api, info}), or goReady({error}) if it cannot run, and then
// serves calls until the worker ends. info is {fields, presets, files, maxWeightsBytes}: the
// settings (key, usage, default value), the presets with their values, the MNIST files to fetch
// (name, size), and the size of the largest weights file of a network a tab can train
// (model.MaxWeightsFileSize).
//
// Every function of api returns a Promise. It settles, never stays pending: it resolves with a
// plain object, or rejects with an Error whose message a student can act on, whose error.code says
// what went wrong in a word the page branches on, and whose error.key names the setting at fault,
// if one is (the codes are listed in session/errors.go and web/protocol.md, "Errors";
// session.ErrorCode reads them from the errors' types, never from their text). No panic crosses into JavaScript, and no
// call blocks the worker's event loop: work runs on goroutines, and training yields to the event
// loop after every step and every evaluation batch so that the calls below arrive while it runs.
//
// The page may run several workers that train together, each on its share of every batch
// (model.Shard): join connects them, and the sums between them go from worker to worker, worker 0
// having started the others (peers_js.go). Worker 0 alone reports a run's events.
//
//	join({index, count}, ports)              -> {}
//	    Makes this worker number index of count (1 to model.VirtualShards). ports: on worker 0,
//	    one to each other worker in order; on the others, one to worker 0. Each has postMessage,
//	    onmessage and close, as a MessagePort has (worker.js, teamPorts, makes them over the
//	    workers' own postMessage).
//	unpackImages(Uint8Array)                 -> Uint8Array         the training images' pixels, as runs
//	    Checks the training images file (size, SHA-256) and unpacks it for the page, which keeps the
//	    pixels once for all its workers: 47 MB that each worker's memory held before. They come as
//	    runs (mnist.ParseImageRuns, 12.1 MB), so that the page never holds the 47 MB.
//	loadData({"<file>.gz": Uint8Array, ...}, {images, count}) -> {train, test}  image counts
//	    Checks the other three MNIST files (size, SHA-256; an error names the bad file), then parses
//	    them. images is a MessagePort to the page's count training images (web/trainset.js), which
//	    training asks for a batch at a time.
//	configure(settings)                      -> {values, summary}  values: key -> text; summary: {layers, total, macs, memory}
//	    Sets the configuration of the next training run. settings is a query string
//	    ("preset=kernel-4&epochs=1") or an object {key: value}; keys are model.Fields keys and "preset",
//	    and other keys are ignored, so the page may pass its whole URL query. summary.memory is
//	    model.Config.MemoryEstimate, with a refusal when it is above model.BrowserMemoryLimit (then
//	    train refuses the configuration) and a warning when it is large.
//	describe(settings)                       -> {values, summary}  what configure answers, changing nothing:
//	    the page estimates queued runs (summary.macs, summary.memory) with it.
//	train({testImages, run, team, digits}, onEvent) -> {stopped, epochs} or {idle: true}
//	    Trains a fresh model from the configuration and makes it the current one. onEvent receives
//	    {type: "progress"|"evaluating"|"epoch", ...} while it runs (on worker 0; the others stay
//	    silent). testImages: how many test images to evaluate after each epoch (0: all). run: the
//	    page's number of the run, the same on every worker, increasing. team: how many of the
//	    joined workers train, the first ones (default all); the others answer {idle: true} at once,
//	    and the bits are the same whatever the team. Stop resolves with stopped: true; divergence
//	    (code "diverged", key "lr"; the model before the run comes back), and abort ("aborted"), reject.
//	    digits: My digits, {images, labels}, evaluated after each epoch (the epoch event's digits)
//	    and mixed into training as mix-digits says; every worker gets the same.
//	measure({run, team, steps})              -> {imagesPerSec, team} or {idle: true}
//	    Times steps (default 3) training steps of the configured network by that team, after one
//	    that compiles, on a model of its own that it drops: the page chooses its team with it.
//	pause(), resume(), stop()                -> {}                 control the run in progress.
//	    pause resolves once the step or evaluation batch under way has ended.
//	abort({run, error})                      -> {}
//	    Ends run (and refuses it, if it has not started here), rejecting train with error:
//	    another worker failed, and its sums will never come.
//	evaluate({testImages})                   -> test result        the current model on the test images.
//	cellDigits(label, predicted, limit)      -> {count, indices, images}
//	    The test images of one confusion-matrix cell of the latest evaluation.
//	kernels()                                -> [{layer, size, in, out, images}]
//	featureMaps({index} or {pixels, width, height}) -> {index, label, input, layers}
//	inspect({key, weights}, source)          -> {kernels, features}
//	    kernels() and featureMaps(source) of the model in weights (a Uint8Array), loaded as
//	    importWeights loads one (a bad file fails with model.Load's message) but kept aside: the
//	    current model and a run in progress are untouched. The last 4 keys' models stay loaded
//	    until a training run starts, so weights may then be null; for a key not loaded, inspect
//	    fails and asks for the weights.
//	predict({pixels, width, height})         -> {probabilities, input}
//	    pixels: a grey-scale drawing (Uint8Array, 0 background, 255 ink), centred as MNIST digits are.
//	exportWeights()                          -> Uint8Array         a safetensors weights file.
//	importWeights(Uint8Array)                -> {values, summary}  replaces the current model; a bad file changes nothing.
//	    The file is copied into Go once and parsed in place (model.Load); one larger than
//	    maxWeightsBytes is refused unread, and one whose network a tab cannot hold at batch 1 refused.
//	evaluateDigits({images, labels})         -> {images, correct, accuracy, loss, confusion, predictions}
//	    The current model on My digits, a student's own (784 bytes each, labels 0..9; session/digits.go).
//	exportDigits({images, labels})           -> {files: [{name, data: Uint8Array}]}
//	    My digits as the gzipped IDX images and labels files MNIST comes in (mnist.WriteImages).
//	importDigits([{name, data}, {name, data}]) -> {images, labels, count}
//	    An images file and its labels file, in either order; a bad pair fails with
//	    mnist.LoadIDXPair's message, which names the file at fault.
//	crash(how, message)                      -> {}                 for the browser tests: then the program exits.
//	    how: "panic" (a panic nothing recovers) or "oom" (allocates until WebAssembly memory is full).
//
// Images (input, images, maps) are arrays of grey levels 0..255, row-major. The shapes of every
// result, and the message protocol between the page and the workers that wraps these calls, are
// written down in web/protocol.md.
package main

import (
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/session"
)

func main() {
	y, err := newYielder()
	if err != nil {
		ready(map[string]any{"error": "the trainer cannot start: " + err.Error()})
		return
	}
	t, err := newTrainer(y.yield)
	if err != nil {
		ready(map[string]any{"error": "the trainer cannot start: " + err.Error()})
		return
	}

	api := map[string]any{}
	for name, fn := range map[string]func(args []safejs.Value) (any, error){
		"loadData":      t.jsLoadData,
		"unpackImages":  t.jsUnpackImages,
		"configure":     t.jsConfigure,
		"describe":      t.jsDescribe,
		"train":         t.jsTrain,
		"pause":         t.jsPause,
		"resume":        t.jsResume,
		"stop":          t.jsStop,
		"join":          t.jsJoin,
		"measure":       t.jsMeasure,
		"abort":         t.jsAbort,
		"evaluate":      t.jsEvaluate,
		"cellDigits":    t.jsCellDigits,
		"kernels":       t.jsKernels,
		"featureMaps":   t.jsFeatureMaps,
		"inspect":       t.jsInspect,
		"predict":       t.jsPredict,
		"exportWeights": t.jsExportWeights,
		"importWeights": t.jsImportWeights,
		"crash":         t.jsCrash,
		// My digits (digits_js.go)
		"evaluateDigits": t.jsEvaluateDigits,
		"exportDigits":   t.jsExportDigits,
		"importDigits":   t.jsImportDigits,
	} {
		// These Funcs live as long as the program, so they are never released.
		f, err := safejs.FuncOf(asyncFunc(name, fn))
		if err != nil {
			ready(map[string]any{"error": fmt.Sprintf("the trainer cannot start: exporting %s: %v", name, err)})
			return
		}
		api[name] = f
	}
	info, err := toJS(session.NewInfo())
	if err != nil {
		ready(map[string]any{"error": "the trainer cannot start: " + err.Error()})
		return
	}
	ready(map[string]any{"api": api, "info": info})
	select {} // serve calls until the worker ends
}

// ready hands the API (or the reason there is none) to the worker script.
func ready(result map[string]any) {
	if _, err := safejs.Global().Call("goReady", result); err != nil {
		logError("calling goReady: " + err.Error())
	}
}
