// The page: it wires the trainer (its workers, trainer.js) to the panels, each a module of its
// own that shows what it is given and says what the student asked for. This module holds the
// page's state, the run under way and the host link. All the work happens in Web Workers
// (worker.js, started by workers.js); the messages are specified in protocol.md.
import { LossChart } from './chart.js';
import { ComparePanel } from './compare.js';
import { loadFiles } from './datacache.js';
import { download } from './download.js';
import { EmbedDialog } from './embed-dialog.js';
import { Experiments } from './experiments.js';
import { storageAdvice, unavailableText } from './features.js';
import { clock, percent, plural, quoted, roughDuration } from './format.js';
import { compileWasm } from './wasmload.js';
import { HostLink } from './host.js';
import { DrawPad } from './pad.js';
import { ConfusionPanel, ReportPanel } from './report.js';
import { FeaturesPanel, KernelsPanel } from './visuals.js';
import { ModelPanel, WeightsPanel } from './weights.js';
import { Recorder } from './recorder.js';
import { RunsPanel } from './runs.js';
import { SettingsForm } from './settings.js';
import { recordTest } from './store.js';
import { Trainer } from './trainer.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const mnistBytes = 11594722; // the four files, for messages before the workers say

// ---------------------------------------------------------------------------------------------
// Talking to the workers: a team of them trains together (workers.js); worker 0 answers the rest.

// maxWorkers caps the team: every batch is cut into 4 virtual shards whatever the team (Go's
// model.VirtualShards), and each worker takes one at least, so that any team computes the same
// bits. It is also where the default team stops: each worker holds its own copy of MNIST and of
// the network.
const maxWorkers = 4;

// workerCount is the team's size: one per core but one, which the page keeps for drawing and
// input (with every core training, a busy machine delayed the page by seconds), up to
// maxWorkers; but two on two cores, where one worker would leave half the machine idle: there
// two trained 1.4 times as fast as one (BENCHMARKS.md) and the page stayed responsive (the
// browser test's event-loop check). Or the URL's workers=N.
function workerCount() {
  const text = params.get('workers');
  const cores = navigator.hardwareConcurrency || 1;
  if (text === null) return Math.max(1, Math.min(cores, 2), Math.min(cores - 1, maxWorkers));
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > maxWorkers) {
    throw new Error(`workers: ${quoted(text)} must be a whole number from 1 to ${maxWorkers} (1: a single worker).`);
  }
  return n;
}

// main.wasm, compiled once, while the first workers start; each of them instantiates it. A page
// that cannot start (a bad workers or panels value) does not download its 2–12 MB.
let wasm = null;
function compiled() {
  if (!wasm) {
    wasm = compileWasm();
    wasm.then((w) => {
      offline = w.offline;
      if (offline) $('offline').hidden = false;
    }, () => {}); // the team reports the failure
  }
  return wasm;
}
const wasmModule = () => compiled().then((w) => w.module);

// The page's trainer: its workers and their events (trainer.js).
const trainer = new Trainer(wasmModule);
const request = (op, args = [], transfer = []) => trainer.request(op, args, transfer);
trainer.addEventListener('failed', (e) => die(e.detail.message));

// sentence ends text with a full stop, unless it has one.
const sentence = (text) => text.replace(/[^.!?]$/, '$&.');

// die shows why the team ended, and offers to start a new one.
function die(message) {
  host.post('error', { message });
  state.training = false;
  state.ready = false;
  state.loaded = false;
  setStatus(`${sentence(message)} Press Restart to start the trainer again.`, 'error');
  $('restart').hidden = false;
  updateControls();
}

// ---------------------------------------------------------------------------------------------
// State, status line and controls.

const state = {
  info: null, // {fields, presets, files} from worker 0
  ready: false, // the workers run
  loaded: false, // MNIST is loaded
  training: false,
  paused: false,
  speed: 0, // images/s measured in the latest run
  speedMacs: 0, // multiply-adds per image of the network that speed was measured on
  macs: 0, // multiply-adds per image of the configured network (summary.macs)
  params: 0, // its trainable parameters (summary.total)
  trainImages: 60000, // in the loaded training set
  currentRunId: '', // the run whose weights worker 0 holds, if they are a recorded run's
  runMacs: 0, // the same, of the network being trained
  values: null, // the settings the workers last accepted, key -> text
  panels: null, // the panels the URL asked for (a Set), or null for all
  tooLarge: false, // the configured network needs more memory than a tab gives (summary.memory.refusal)
};
const timings = {}; // ms since the page started loading: ready, downloaded, loaded, train, firstProgress

function setStatus(text, kind = '') {
  const el = $('status');
  el.textContent = text;
  el.className = kind;
}

function updateControls() {
  const { ready, loaded, training, paused } = state;
  $('settings-fields').disabled = !ready || training;
  $('train').disabled = !loaded || training || state.tooLarge;
  $('quick').disabled = !ready || training;
  $('pause').disabled = !training || Boolean(trainer.waiting);
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  $('stop').disabled = !training;
  $('evaluate').disabled = !loaded || training;
  weightsPanel.enable(ready, training);
  showRuns();
  document.body.classList.toggle('training', training);
}

// showPanels: ?panels=train,loss shows only those, under a compact header, for embedding part of
// the page. An unknown name stops the page, as a bad workers value does, rather than leave it blank.
function showPanels() {
  const text = params.get('panels');
  if (!text) return;
  const sections = [...document.querySelectorAll('[data-panel]')];
  const known = sections.map((s) => s.dataset.panel);
  const wanted = new Set(text.split(',').map((s) => s.trim()).filter((s) => s));
  for (const name of wanted) {
    if (!known.includes(name)) throw new Error(`panels: ${quoted(name)} is not a panel; the panels are ${known.join(', ')}.`);
  }
  document.body.classList.add('embedded');
  // The comparison shows once runs are compared.
  for (const section of sections) section.hidden = !wanted.has(section.dataset.panel) || section.dataset.panel === 'compare';
  state.panels = wanted;
}
const visible = (panel) => !document.querySelector(`[data-panel="${panel}"]`).hidden;

// ---------------------------------------------------------------------------------------------
// Settings: one control per model setting (info.fields), the preset picker and test-images.

// The settings form (settings.js).
const form = new SettingsForm($('settings'));

// settingsProblem is the message of the setting that stops a run, while there is one.
// urlProblem is the message of the URL's refused setting, until the student changes a setting:
// Train refuses meanwhile, even where the controls look fine (an unknown preset).
let settingsProblem = '';
let urlProblem = '';

// showSettingError shows a refused setting: under its control and in the status line.
function showSettingError(err) {
  clearSettingErrors();
  form.mark(err.key, err.message);
  settingsProblem = err.message;
  setStatus(`Check the settings: ${err.message}`, 'error');
}

function clearSettingErrors() {
  form.clearErrors();
  settingsProblem = '';
  urlProblem = '';
}

// configure sends settings to the workers; fill puts the values it answers back into the form.
async function configure(settings, fill) {
  try {
    const r = await trainer.all('configure', [settings]);
    const wasRefused = settingsProblem !== '';
    clearSettingErrors();
    if (wasRefused && !state.training) setStatus(state.loaded ? 'Ready to train.' : 'Loading MNIST…');
    if (fill) form.fill(r.values);
    state.values = r.values;
    state.macs = r.summary.macs;
    state.params = r.summary.total;
    showSummary(r.summary);
    showMemory(r.summary.memory);
    updateEstimate();
    return !state.tooLarge;
  } catch (err) {
    if (trainer.failing) return false; // the status says why
    showSettingError(err);
    return false;
  }
}

// showMemory shows what the configured network's memory estimate (summary.memory) means for a
// tab: a network too large to fit is refused as a setting is, under the setting that drives it,
// and Train stays disabled until a setting changes; a large one gets a warning above Train.
function showMemory(memory) {
  state.tooLarge = Boolean(memory.refusal);
  if (state.tooLarge) showSettingError({ key: memory.keys[0], message: memory.refusal });
  $('memory-warning').textContent = memory.warning;
  $('memory-warning').hidden = !memory.warning;
  updateControls();
}

// testImages is the number of test images to evaluate after each epoch, or -1 after showing
// why the control's value is refused.
function testImages() {
  const text = form.testImagesText;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 10000) {
    showSettingError({ key: 'test-images', message: `test-images: ${quoted(text)} must be a whole number from 0 to 10000 (0 = all).` });
    return -1;
  }
  return n;
}

let configureTimer = 0;
$('settings').addEventListener('input', (e) => {
  urlProblem = '';
  if (e.target.id === 'preset') return;
  form.matchPreset();
  clearTimeout(configureTimer);
  configureTimer = setTimeout(() => {
    if (e.target.id === 'test-images') {
      if (testImages() >= 0) configure(form.values(), false);
    } else {
      configure(form.values(), false);
    }
  }, 250);
});

$('preset').addEventListener('change', () => {
  const architecture = form.presetValues(form.preset);
  if (!architecture) return;
  form.fill(architecture);
  configure(form.values(), false);
});

// The quick run: 160 steps of 64 images, then the loss and the test accuracy on 1,000 images
// each. On the reference 2-core machine (about 300 images/s with the SIMD kernels) that is
// about 35 s of training and 4 s of evaluation, and the network reaches 90–93% (BENCHMARKS.md).
$('quick').addEventListener('click', () => {
  form.fill({ 'train-images': '10240', 'loss-images': '1000', epochs: '1', batch: '64', 'test-images': '1000' });
  configure(form.values(), false);
});

// typicalSpeed is the notebook network's training speed in one worker on the reference 2-core
// machine (BENCHMARKS.md): with the SIMD kernels, and with simplego's generic code.
const typicalSpeed = { simd: 300, generic: 60 };
const notebookMacs = 4849408; // model.DefaultConfig().MACsPerImage()

// estimatedSpeed is the training speed expected for the configured network: the latest run's,
// scaled by the networks' multiply-adds per image, or else a typical one.
function estimatedSpeed(macs = state.macs || notebookMacs) {
  if (state.speed && state.speedMacs) return (state.speed * state.speedMacs) / macs;
  const simd = state.info && state.info.kernels !== 'generic';
  return ((simd ? typicalSpeed.simd : typicalSpeed.generic) * notebookMacs) / macs;
}

// runShape is the steps of a run with values (settings as text): per epoch and in all.
function runShape(values) {
  const trainN = Number(values['train-images']) || state.trainImages;
  const perEpoch = Math.floor(trainN / Number(values.batch));
  return { trainN, perEpoch, totalSteps: perEpoch * Number(values.epochs) };
}

// runSeconds estimates how long a run with values takes, testing testN images after each epoch
// (0: all), for a network of macs multiply-adds per image.
function runSeconds(values, testN, macs) {
  const { trainN, perEpoch } = runShape(values);
  const batch = Number(values.batch);
  const epochs = Number(values.epochs);
  const lossN = Math.min(Number(values['loss-images']) || trainN, trainN);
  const speed = estimatedSpeed(macs);
  // Evaluation runs forward passes only, about twice as fast as training.
  return (perEpoch * batch * epochs) / speed + (epochs * (lossN + (testN || 10000))) / (2 * speed);
}

// updateEstimate says how long a run will take, at the speed of the latest run or a typical one.
function updateEstimate() {
  const values = state.values;
  if (!values) return;
  const batch = Number(values.batch);
  const epochs = Number(values.epochs);
  const { perEpoch } = runShape(values);
  const speed = estimatedSpeed();
  const seconds = runSeconds(values, Math.max(0, Number(form.testImagesText) || 0), state.macs);
  $('estimate').textContent =
    `${epochs} × ${perEpoch.toLocaleString('en')} steps of ${batch} images. ` +
    `About ${roughDuration(seconds)} at ${speed < 10 ? speed.toPrecision(2) : Math.round(speed)} images/s` +
    (state.speed ? ' (measured in the latest run).' : ' (typical of a 2-core laptop; the real speed shows once training starts).');
}

// ---------------------------------------------------------------------------------------------
// Training.

const chart = new LossChart($('chart'));
$('chart-log').addEventListener('change', () => chart.setLog($('chart-log').checked));

$('settings').addEventListener('submit', (e) => {
  e.preventDefault();
  train();
});

// The run that trains now: its row in the Runs list, which progress and epoch events fill in.
let training = null;

// While a run waits for another trainer in this browser to finish (trainer.js), the page says so.
// measureTeam: the team that trains is chosen by measurement in this browser (trainer.js), unless
// the URL says how many workers to use.
const measureTeam = params.get('workers') === null;

// teamText says who trains: how many workers, and what the page measured to choose them.
function teamText() {
  const n = trainer.training;
  const m = trainer.measured;
  const who = n > 1 ? `Training uses ${n} workers, each on its share of every batch` : 'Training uses one worker';
  if (!m) return trainer.active ? who : `${who} (to be measured before the first run)`;
  const speeds = Object.entries(m.speeds).map(([size, v]) => `${plural(Number(size), 'worker')} ${Math.round(v)} img/s`).join(', ');
  return `${who}, the fastest measured in this browser (${speeds})`;
}

trainer.addEventListener('measuring', ({ detail: m }) => {
  setStatus(`Training: measuring how many of the ${m.count} workers train fastest in this browser, once (a few seconds)…`, 'busy');
});
trainer.addEventListener('team', () => {
  $('stat-speed').title = teamText();
});

trainer.addEventListener('waiting', () => {
  setStatus('Waiting for the other trainer in this browser: one trains at a time, so that they do not share the cores. This one starts when that one ends or is stopped.', 'busy');
  host.post('waiting', {});
  updateControls();
});

// train trains a fresh network on the settings in the form, and records the run. It resolves with
// how the run ended, {row, status} (status: 'finished', 'stopped', 'diverged' or 'failed'), or
// with null if it did not start (a setting refused).
async function train() {
  if (urlProblem) {
    setStatus(`Check the settings: ${urlProblem}`, 'error');
    return null;
  }
  timings.train = Math.round(performance.now());
  delete timings.firstProgress;
  const n = testImages();
  if (n < 0 || !(await configure(form.values(), false))) return null;
  state.training = true;
  state.runMacs = state.macs; // the speeds of this run are of this network
  state.paused = false;
  const before = state.currentRunId; // current again if the run diverges
  const { perEpoch, totalSteps } = runShape(state.values);
  const row = runs.begin({
    settings: { ...state.values }, preset: form.preset, testImages: n,
    workers: trainer.count, kernels: state.info.kernels, kernelList: state.info.kernelList,
    params: state.params, macs: state.macs, stepsPerEpoch: perEpoch, totalSteps,
  });
  training = row;
  state.currentRunId = row.id;
  updateControls();
  chart.clear(0);
  clearTimeout(progressTimer);
  progressTimer = 0;
  for (const id of ['stat-step', 'stat-epoch', 'stat-loss', 'stat-speed', 'stat-elapsed', 'stat-eta']) $(id).textContent = '–';
  $('run-progress').value = 0;
  setStatus('Training: preparing the network (the first step takes longest)…', 'busy');
  let started = performance.now();
  let status = 'finished';
  let error = '';
  try {
    const r = await trainer.train({ testImages: n }, () => {
      row.record.workers = trainer.training; // chosen by measurement before the first run
      started = performance.now();
      if (!timings.firstProgress) setStatus('Training: preparing the network (the first step takes longest)…', 'busy');
      updateControls();
    });
    status = r.stopped ? 'stopped' : 'finished';
    const acc = lastTest ? ` Test accuracy ${percent(lastTest.accuracy)}.` : '';
    setStatus(r.stopped ? `Stopped after ${plural(r.epochs, 'complete epoch')}.${r.epochs ? acc : ''}` :
      `Finished: ${plural(r.epochs, 'epoch')}.${acc} Draw a digit to try the network.`);
  } catch (err) {
    status = err.key === 'lr' ? 'diverged' : 'failed';
    error = err.message;
    if (status === 'diverged') state.currentRunId = before; // the model from before the run is back
    if (!trainer.failing) {
      setStatus(`Training failed: ${sentence(err.message)}`, 'error');
      form.mark(err.key, err.message); // a run that diverged: the learning rate
    }
  } finally {
    flushProgress();
    training = null;
    state.training = false;
    state.paused = false;
    updateControls();
    updateEstimate(); // now at the measured speed
    refreshVisuals();
  }
  // The weights are kept with the run, unless it diverged (they are gone) or the team failed.
  let weights = null;
  if (status === 'finished' || status === 'stopped') {
    weights = await request('exportWeights').catch((err) => {
      error = `its weights could not be exported: ${err.message}`;
      return null;
    });
  }
  const wallMs = Math.round(performance.now() - started);
  const problem = await runs.end(row, { status, error, wallMs, weights });
  if (problem) runsPanel.message(problem, 'error');
  showRuns();
  if (status === 'finished' || status === 'stopped') {
    const test = recordTest(row.record);
    host.post('finished', { status, run: row.id, name: row.name, epochs: row.record.epochs.length,
      accuracy: test ? test.accuracy : null, macroF1: test ? test.report.macroAvg.f1 : null, settings: row.record.settings, wallMs });
  } else {
    host.post('error', { message: error, key: status === 'diverged' ? 'lr' : '' });
  }
  return { row, status };
}

$('pause').addEventListener('click', async () => {
  const op = state.paused ? 'resume' : 'pause';
  try {
    await trainer.control(op);
    flushProgress(); // the step the run paused after
    state.paused = !state.paused;
    setStatus(state.paused ? 'Paused. Drawing and the visualisations still work.' : 'Training…', 'busy');
    updateControls();
  } catch (err) {
    setStatus(err.message, 'error');
  }
});

$('stop').addEventListener('click', async () => {
  try {
    setStatus('Stopping…', 'busy');
    await trainer.control('stop');
  } catch (err) {
    setStatus(err.message, 'error');
  }
});

let lastRefresh = 0;

trainer.addEventListener('progress', ({ detail: m }) => {
  if (training) runs.progress(training, m);
  host.progress({ step: m.step, steps: m.steps, epoch: m.epoch, epochs: m.epochs, loss: m.smoothLoss, imagesPerSec: m.imagesPerSec }, m.step === m.steps);
  chart.data.totalSteps = m.steps;
  chart.addPoints(m.points);
  state.speed = m.imagesPerSec;
  state.speedMacs = state.runMacs;
  if (timings.firstProgress === undefined) timings.firstProgress = Math.round(performance.now());
  if (m.step === 1 && !state.paused) setStatus(`Training: epoch 1 of ${m.epochs}.`, 'busy');
  showProgress(m);
  // Watch it learn: kernels, feature maps and the drawing's probabilities every few seconds.
  if (performance.now() - lastRefresh > 4000) refreshVisuals();
});

// A run’s figures and its loss chart show at most once a second, in one frame: the workers
// send up to ten progress events a second, and each drawing costs the page's main thread a
// frame (style, layout, paint, and a hit test under the mouse pointer).
const showEvery = 1000;
let progressShown = 0;
let progressTimer = 0;
let progressLatest = null;

function showProgress(m) {
  progressLatest = m;
  if (progressTimer) return;
  progressTimer = setTimeout(() => {
    progressTimer = 0;
    progressShown = performance.now();
    drawProgress(progressLatest);
  }, Math.max(0, progressShown + showEvery - performance.now()));
}

// flushProgress draws the latest figures now, if some wait: when the run pauses or ends, what
// shows is where it stopped.
function flushProgress() {
  if (!progressTimer) return;
  clearTimeout(progressTimer);
  progressTimer = 0;
  progressShown = performance.now();
  drawProgress(progressLatest);
}

function drawProgress(m) {
  chart.draw();
  $('stat-step').textContent = `${m.step.toLocaleString('en')} / ${m.steps.toLocaleString('en')}`;
  $('stat-epoch').textContent = `${m.epoch} / ${m.epochs}`;
  $('stat-loss').textContent = `${m.smoothLoss.toFixed(3)}`;
  $('stat-loss').title = `this batch: ${m.loss.toFixed(3)}; smoothed: ${m.smoothLoss.toFixed(3)}`;
  $('stat-speed').textContent = `${m.imagesPerSec.toFixed(1)} img/s · ${state.info.kernels}`;
  $('stat-speed').title = teamText() +
    (state.info.kernelList.length ? `; SIMD kernels: ${state.info.kernelList.join(', ')}` : '; generic kernels (built without SIMD)');
  $('stat-elapsed').textContent = clock(m.elapsedMs);
  $('stat-eta').textContent = m.step > 1 ? clock(m.etaMs) : '–';
  $('run-progress').value = m.step / m.steps;
}

trainer.addEventListener('evaluating', ({ detail: m }) => {
  const what = m.what === 'loss'
    ? `measuring the loss on ${m.total.toLocaleString('en')} training images`
    : `testing on ${m.done.toLocaleString('en')} of ${m.total.toLocaleString('en')} test images`;
  if (!state.paused) setStatus(`Epoch ${m.epoch} of ${m.epochs}: ${what}…`, 'busy');
});

trainer.addEventListener('epoch', ({ detail: m }) => {
  host.post('epoch', { epoch: m.epoch, epochs: m.epochs, trainLoss: m.trainLoss, testAccuracy: m.test ? m.test.accuracy : null });
  if (training) runs.epoch(training, m).then((problem) => problem && runsPanel.message(problem, 'error'));
  flushProgress();
  chart.addEpoch(m.step, m.trainLoss);
  if (m.test) showTest(m.test, `after epoch ${m.epoch} of ${m.epochs}`);
  const acc = m.test ? `, test accuracy ${percent(m.test.accuracy)}` : '';
  setStatus(`Epoch ${m.epoch} of ${m.epochs} done: training loss ${m.trainLoss.toFixed(3)}${acc}.`, m.epoch < m.epochs ? 'busy' : '');
  refreshVisuals();
});


// ---------------------------------------------------------------------------------------------
// Classification report and confusion matrix (report.js).

const reportPanel = new ReportPanel(document.querySelector('[data-panel="report"]'));
const confusionPanel = new ConfusionPanel(document.querySelector('[data-panel="confusion"]'));
let lastTest = null; // the test result shown

function showTest(test, when) {
  lastTest = test;
  reportPanel.show(test, when);
  confusionPanel.show(test.confusion);
}

function clearTest(caption) {
  lastTest = null;
  reportPanel.clear(caption);
  confusionPanel.clear();
}

confusionPanel.section.addEventListener('confusion-cell', async (e) => {
  const { label, predicted } = e.detail;
  const cell = () => request('cellDigits', [label, predicted, 60]);
  try {
    // A run made current brings its report but not worker 0's evaluation of it: that is made
    // now, on the same test images, and gives the same matrix.
    const r = await cell().catch(async (err) => {
      if (!/no evaluation/.test(err.message) || state.training) throw err;
      confusionPanel.cellMessage('Finding the digits of this cell…');
      await request('evaluate', [{ testImages: Math.max(0, testImages()) }]);
      return cell();
    });
    confusionPanel.showCell(label, predicted, r);
  } catch (err) {
    confusionPanel.cellMessage(err.message);
  }
});

$('evaluate').addEventListener('click', async () => {
  const n = testImages();
  if (n < 0) return;
  $('evaluate').disabled = true;
  setStatus(`Evaluating the current model on ${(n || 10000).toLocaleString('en')} test images…`, 'busy');
  try {
    showTest(await request('evaluate', [{ testImages: n }]), 'evaluated now');
    setStatus(`Evaluated: test accuracy ${percent(lastTest.accuracy)}.`);
  } catch (err) {
    setStatus(`Evaluation failed: ${err.message}`, 'error');
  } finally {
    updateControls();
  }
});

// ---------------------------------------------------------------------------------------------
// Kernels and feature maps.

// coalesced runs fn at most once at a time; calls meanwhile make it run once more afterwards.
function coalesced(fn) {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } catch (err) {
      console.warn(err);
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  return run;
}

const kernelsPanel = new KernelsPanel(document.querySelector('[data-panel="kernels"]'));
const featuresPanel = new FeaturesPanel(document.querySelector('[data-panel="features"]'));
featuresPanel.section.addEventListener('feature-source', () => refreshFeatures());

const refreshKernels = coalesced(async () => {
  if (!visible('kernels') || !state.ready) return;
  kernelsPanel.show(await request('kernels'));
});

const refreshFeatures = coalesced(async () => {
  if (!visible('features') || !state.ready) return;
  let source = featuresPanel.source;
  if (source === 'drawing') {
    if (!drawPad.hasInk) {
      featuresPanel.message('Draw a digit on the drawing pad to see what each layer makes of it.');
      return;
    }
    source = padPixels();
  } else if (!state.loaded) {
    featuresPanel.message('The test images appear once MNIST is loaded.');
    return;
  }
  try {
    featuresPanel.show(await request('featureMaps', [source], source.pixels ? [source.pixels.buffer] : []));
  } catch (err) {
    featuresPanel.message(err.message);
  }
});

function refreshVisuals() {
  lastRefresh = performance.now();
  refreshKernels();
  refreshFeatures();
  if (drawPad.hasInk) predict();
}

// ---------------------------------------------------------------------------------------------
// The drawing pad and the live probabilities (pad.js).

const drawPad = new DrawPad(document.querySelector('[data-panel="draw"]'));
const padPixels = () => drawPad.pixels();
const drawingShown = () => featuresPanel.source === 'drawing';

drawPad.section.addEventListener('pad-ink', () => predict());
drawPad.section.addEventListener('pad-clear', () => {
  if (drawingShown()) refreshFeatures();
});

const predict = coalesced(async () => {
  if (!drawPad.hasInk || !state.ready) return;
  const drawing = padPixels();
  let r;
  try {
    r = await request('predict', [drawing], [drawing.pixels.buffer]);
  } catch (err) {
    drawPad.showPrediction(err);
    return;
  }
  if (!drawPad.hasInk) return; // cleared meanwhile
  drawPad.showPrediction(r);
  if (drawingShown()) refreshFeatures();
  if (comparePanel.source() === 'drawing') compareFigures();
});

// ---------------------------------------------------------------------------------------------
// Weights and the model summary.

const modelPanel = new ModelPanel(document.querySelector('[data-panel="model"]'));
const weightsPanel = new WeightsPanel(document.querySelector('[data-panel="weights"]'));
const showSummary = (summary) => modelPanel.show(summary);
const weightsMessage = (text, kind) => weightsPanel.message(text, kind);

weightsPanel.section.addEventListener('weights-export', async () => {
  try {
    const bytes = await request('exportWeights');
    saveFile(new Blob([bytes], { type: 'application/octet-stream' }), 'mnist-weights.safetensors');
    weightsMessage(`Exported mnist-weights.safetensors (${(bytes.length / 1e6).toFixed(1)} MB).`, 'ok');
  } catch (err) {
    weightsMessage(`Could not export: ${err.message}`, 'error');
  }
});

weightsPanel.section.addEventListener('weights-import', async (e) => {
  const { file } = e.detail;
  try {
    if (file.size > state.info.maxWeightsBytes) { // as Go would say, without reading the file
      const mb = (n) => Math.floor(n / 1e6);
      throw new Error(`weights file: ${mb(file.size)} MB, more than any weights file of this trainer (at most ${mb(state.info.maxWeightsBytes)} MB)`);
    }
    const data = new Uint8Array(await file.arrayBuffer());
    const r = await request('importWeights', [data, { locked: form.locked }], [data.buffer]);
    form.fill(r.values);
    clearSettingErrors();
    state.values = r.values;
    showSummary(r.summary);
    showMemory(r.summary.memory); // the file's batch may be more than a tab can train
    updateEstimate();
    chart.clear(0);
    clearTest('Imported weights: press “Evaluate the current model” for their report.');
    state.currentRunId = ''; // a file's model, not one of the recorded runs
    showRuns();
    weightsMessage(`Loaded ${file.name}: ${r.summary.total.toLocaleString('en')} parameters, filters ${r.values.filters}, kernel ${r.values.kernel}.`, 'ok');
    if (!state.tooLarge) setStatus(`Loaded the weights from ${file.name}.`); // else the status says why Train refuses
  } catch (err) {
    weightsMessage(`Could not import ${file.name}: ${err.message}. The current model is unchanged.`, 'error');
  }
  refreshVisuals(); // the predictions show which model is current
});

// ---------------------------------------------------------------------------------------------
// Runs: every run kept in this browser (recorder.js), listed in the Runs panel (runs.js), and
// compared side by side (compare.js).

const presetTitle = (name) => state.info?.presets.find((p) => p.name === name)?.title ?? (name ? name : 'Custom');
const runs = new Recorder(presetTitle);
runs.addEventListener('change', () => showRuns());
const runsPanel = new RunsPanel(document.querySelector('[data-panel="runs"]'));
const comparePanel = new ComparePanel(document.querySelector('[data-panel="compare"]'));

function showRuns() {
  runsPanel.show(runs.rows, { currentId: state.currentRunId, training: state.training });
  showQueue();
}

// A run whose record or weights the browser refuses stays listed: the panel says why.
const runsSection = runsPanel.section;
runsSection.addEventListener('runs-rename', async (e) => {
  const problem = await runs.rename(e.detail.id, e.detail.name);
  runsPanel.message(problem || `Renamed to “${e.detail.name}”.`, problem ? 'error' : 'ok');
});
runsSection.addEventListener('runs-delete', async (e) => {
  const name = runs.get(e.detail.id)?.name;
  try {
    await runs.delete(e.detail.id);
    if (state.currentRunId === e.detail.id) state.currentRunId = ''; // the model stays, unrecorded
    runsPanel.message(`Deleted “${name}”.`, 'ok');
  } catch (err) {
    runsPanel.message(`Could not delete “${name}”: ${err.message}.`, 'error');
  }
  showRuns();
});
runsSection.addEventListener('runs-clear', async () => {
  try {
    await runs.clear();
    state.currentRunId = '';
    runsPanel.message('Deleted every run.', 'ok');
  } catch (err) {
    runsPanel.message(`Could not delete the runs: ${err.message}.`, 'error');
  }
  showRuns();
});
runsSection.addEventListener('runs-export', async () => {
  try {
    const { blob, count } = await runs.export();
    const name = `mnist-runs-${new Date().toISOString().slice(0, 10)}.json`;
    saveFile(blob, name);
    runsPanel.message(`Exported ${plural(count, 'run')} as ${name} (${(blob.size / 1e6).toFixed(1)} MB).`, 'ok');
  } catch (err) {
    runsPanel.message(`Could not export the runs: ${err.message}.`, 'error');
  }
});
runsSection.addEventListener('runs-import', async (e) => {
  try {
    const r = await runs.import(e.detail.file);
    const what = [r.added && `${plural(r.added, 'new run')}`, r.replaced && `${plural(r.replaced, 'run')} replaced`].filter(Boolean).join(', ') || 'no runs';
    runsPanel.message(`Imported ${e.detail.file.name}: ${what}.${r.problems.length ? ` But ${r.problems.join('; ')}.` : ''}`, r.problems.length ? 'error' : 'ok');
  } catch (err) {
    runsPanel.message(`Could not import: ${err.message}. The runs are unchanged.`, 'error');
  }
});
runsSection.addEventListener('runs-activate', (e) => makeCurrent(e.detail.id));
runsSection.addEventListener('runs-compare', (e) => compare(e.detail.ids));
runsSection.addEventListener('runs-experiments', (e) => experimentActions[e.detail.action]());

// saveFile saves blob as a file named name (the browser's download).
function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// makeCurrent loads a recorded run's weights into worker 0, and shows its settings, curve,
// report and confusion matrix; the kernels, feature maps and predictions follow from the weights.
async function makeCurrent(id) {
  const row = runs.get(id);
  if (!row || !row.record || state.training) return;
  const r = row.record;
  try {
    const bytes = (await runs.weightsOf(id)).slice(); // a copy, moved to the worker
    const reply = await request('importWeights', [bytes, { locked: form.locked }], [bytes.buffer]);
    form.fill({ ...r.settings, 'test-images': r.testImages });
    clearSettingErrors();
    state.values = reply.values;
    await configure(form.values(), false);
  } catch (err) {
    runsPanel.message(`Could not make “${row.name}” current: ${err.message}. The current model is unchanged.`, 'error');
    return;
  }
  state.currentRunId = id;
  chart.show(r.curve, r.epochs.map((e) => ({ step: e.step, loss: e.trainLoss })), r.totalSteps);
  const test = recordTest(r);
  if (test) showTest(test, `from the run “${row.name}” (epoch ${r.epochs.findLast((e) => e.test).epoch})`);
  else clearTest(`The run “${row.name}” has no test results: press “Evaluate the current model”.`);
  setStatus(`“${row.name}” is the current model: draw a digit to try it.`);
  runsPanel.message(`“${row.name}” is current.`, 'ok');
  showRuns();
  refreshVisuals();
}

// compare shows the runs ids side by side.
function compare(ids) {
  const records = ids.map((id) => runs.get(id)?.record).filter(Boolean);
  if (records.length < 2) return;
  if (state.panels && !state.panels.has('compare')) {
    runsPanel.message('This course page shows no comparison (its panels leave out “compare”).', 'error');
    return;
  }
  comparePanel.show(records);
  comparePanel.section.scrollIntoView({ behavior: 'smooth', block: 'start' });
  compareFigures();
}
comparePanel.section.addEventListener('compare-source', () => compareFigures());

// compareFigures shows the first kernels and feature maps of each compared run for the chosen
// image. Go keeps the last few runs' models (inspect), so the weights travel only the first time.
const compareFigures = coalesced(async () => {
  if (comparePanel.section.hidden || !state.ready) return;
  const source = comparePanel.source();
  if (source === 'drawing' ? !drawPad.hasInk : !state.loaded) {
    comparePanel.figuresMessage(source === 'drawing' ? 'Draw a digit on the drawing pad to compare what each network makes of it.' : 'The test images appear once MNIST is loaded.');
    return;
  }
  comparePanel.figuresMessage('');
  const figures = [];
  for (const { record } of comparePanel.runs) {
    const ask = (weights) => {
      const from = source === 'drawing' ? padPixels() : source;
      const transfer = [weights?.buffer, from.pixels?.buffer].filter(Boolean);
      return request('inspect', [{ key: record.id, weights }, from], transfer);
    };
    try {
      figures.push(await ask(null).catch(async () => ask((await runs.weightsOf(record.id)).slice())));
    } catch (err) {
      figures.push({ problem: `No figures: ${err.message}.` });
    }
  }
  comparePanel.showFigures(figures);
});

// ---------------------------------------------------------------------------------------------
// The notebook's experiments (experiments.js): three runs, then their comparison.

// presetSettings are base with the architecture of preset name.
const presetSettings = (base, name) => ({ ...base, ...form.presetValues(name) });

const experiments = new Experiments({
  run(name, base, testImages) {
    form.fill({ ...presetSettings(base, name), 'test-images': testImages });
    return train();
  },
  // The estimate asks Go for each network's multiply-adds (describe), and scales the measured speed.
  async estimate(names, base, testImages) {
    let seconds = 0;
    for (const name of names) {
      const r = await request('describe', [presetSettings(base, name)]);
      seconds += runSeconds(r.values, testImages, r.summary.macs);
    }
    return { seconds, speed: estimatedSpeed(notebookMacs) };
  },
  title: presetTitle,
  show: () => showQueue(),
  done(ids) {
    runsPanel.tick(ids);
    runsPanel.message('The notebook’s experiments are done: here they are side by side.', 'ok');
    compare(ids);
  },
});

function showQueue() {
  // The experiments change the architecture: not where the course locked it.
  const q = experiments.queue;
  runsPanel.showQueue(q && { ...q, paused: state.paused }, { canTrain: state.loaded && !state.training && !state.tooLarge && !form.archLocked });
}

// The queue's actions, as the Runs panel names them. Pause and Stop are the run's own buttons:
// the same state, the same status line.
const experimentActions = {
  start() {
    if (state.training) return;
    const n = testImages();
    if (n >= 0) experiments.start(form.values(), n);
  },
  continue() {
    if (!state.training) experiments.continue();
  },
  pause() {
    if (experiments.queue && state.training) $('pause').click();
  },
  stop() {
    if (experiments.queue && state.training) $('stop').click();
  },
};

// ---------------------------------------------------------------------------------------------
// The host page: a course page that embeds this one in a frame (host.js, protocol.md).

const host = new HostLink(async ({ command, settings }) => {
  switch (command) {
    case 'train':
      if (state.training) throw new Error('train: a run is under way');
      if (!state.loaded) throw new Error('train: the trainer is not ready yet (wait for its ready message)');
      train(); // its end is the finished (or error) message
      return;
    case 'stop':
      if (!state.training) throw new Error('stop: no run is under way');
      await trainer.control('stop');
      return;
    case 'configure': {
      if (state.training) throw new Error('configure: a run is under way');
      if (!settings || typeof settings !== 'object') throw new Error('configure: settings must be an object of setting names and values');
      const known = new Set([...state.info.fields.map((f) => f.key), 'preset', 'test-images']);
      const unknown = Object.keys(settings).filter((k) => !known.has(k));
      if (unknown.length) throw new Error(`configure: ${quoted(unknown[0])} is not a setting; the settings are ${[...known].join(', ')}`);
      const next = { ...form.values() };
      if (settings.preset !== undefined) {
        const architecture = form.presetValues(String(settings.preset));
        if (!architecture) throw Object.assign(new Error(`preset: ${quoted(String(settings.preset))} is not a preset; the presets are ${state.info.presets.map((p) => p.name).join(', ')}`), { key: 'preset' });
        Object.assign(next, architecture);
      }
      for (const [k, v] of Object.entries(settings)) if (k !== 'preset') next[k] = String(v); // test-images too
      const refused = form.lockProblem(next);
      if (refused) throw refused;
      form.fill(next);
      if (testImages() < 0 || !(await configure(form.values(), false))) {
        throw Object.assign(new Error(settingsProblem || 'configure: the settings were refused'), { key: form.invalidKey });
      }
      host.post('configured', { settings: state.values });
      return;
    }
    default:
      throw new Error(`${quoted(command)} is not a command; the commands are train, stop and configure`);
  }
});

// The Embed dialog's code: the URL parameters of the settings on the page now, those that differ
// from the notebook's (a preset by its name).
const embedDialog = new EmbedDialog($('embed-dialog'), () => {
  const values = form.values();
  const pairs = [];
  const preset = form.preset;
  if (preset && preset !== state.info.presets[0].name) pairs.push(['preset', preset]);
  const base = preset ? state.info.presets.find((p) => p.name === preset).values : {};
  for (const f of state.info.fields) {
    const def = base[f.key] ?? f.value;
    if (values[f.key] !== def) pairs.push([f.key, values[f.key]]);
  }
  if (form.testImagesText !== '1000') pairs.push(['test-images', form.testImagesText]);
  return pairs;
});
$('embed').addEventListener('click', () => {
  if (!state.info) return;
  embedDialog.show({ panels: params.get('panels') || '', lock: params.get('lock') || '' });
});

// ---------------------------------------------------------------------------------------------
// Offline: a service worker (sw.js) keeps the files of the latest complete visit, and MNIST is
// in Cache Storage (datacache.js); with the server gone, a reload opens and trains.

let offline = false;
let snapshotReply = null;
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((err) => console.warn(`No offline copy: ${err.message}`));
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data?.type === 'snapshot') snapshotReply = e.data;
    if (e.data?.type === 'snapshot' && !e.data.ok) console.warn(`No offline copy: ${e.data.error}`);
  });
}
// keepOffline asks the service worker to keep what this visit loaded: the page, its modules and
// styles, main.wasm and the workers' scripts.
async function keepOffline() {
  if (offline || !navigator.serviceWorker) return;
  const sw = await navigator.serviceWorker.ready.catch(() => null);
  if (!sw || !sw.active) return;
  // The workers' scripts are fetched by the workers, so the page's resource list lacks them; of
  // main.wasm and main.wasm.gz only the one it came from counts (a static site has no main.wasm).
  const { source } = await compiled();
  const urls = new Set([location.href, ...['worker.js', 'wasm_exec.js', source].map((f) => new URL(f, location.href).href)]);
  for (const e of performance.getEntriesByType('resource')) {
    const url = new URL(e.name);
    if (url.origin === location.origin && !url.pathname.includes('/data/') && !/\/main\.wasm(\.gz)?$/.test(url.pathname)) urls.add(url.href);
  }
  sw.active.postMessage({ type: 'snapshot', urls: [...urls] });
}

// ---------------------------------------------------------------------------------------------
// Start-up: the workers say ready, then the page configures them from the URL and loads MNIST.

// MNIST once loaded, kept for a restart: the training images' pixels, which the workers ask for
// a batch at a time (trainset.js), and the other three files, name -> bytes.
let mnist = null; // {files, pixels}

trainer.addEventListener('ready', async ({ detail: m }) => {
  timings.ready = Math.round(performance.now());
  const restart = state.info !== null;
  state.info = m.info;
  state.ready = true;
  updateControls();
  if (restart) {
    await configure(form.values(), false); // the settings as the student left them
  } else {
    form.build(m.info);
    if (params.has('test-images')) form.control('test-images').value = params.get('test-images');
    if (!(await configure(location.search, true))) {
      // Show what the URL asked for, so the student sees the value to fix.
      for (const [key, value] of params) if (form.control(key)) form.control(key).value = value;
    } else if (params.has('test-images')) {
      testImages(); // shows a bad value
    }
    urlProblem = settingsProblem;
    try {
      form.lock(form.lockKeys(params.get('lock')), state.values);
    } catch (err) {
      urlProblem = err.message; // Train refuses until the page is opened with a good lock
      setStatus(`Check the settings: ${err.message}`, 'error');
    }
  }
  refreshVisuals();
  if (!restart) {
    runs.open().then((problem) => problem && runsPanel.message(problem, 'error'));
    storageAdvice().then((text) => runsPanel.storageNote(text));
  }
  loadData(false);
});

function showDownload(loaded, total) {
  const bar = $('download');
  bar.max = total;
  bar.value = loaded;
  const mb = (n) => (n / 1e6).toFixed(1);
  $('download-text').textContent = `${mb(loaded)} / ${mb(total)} MB`;
}

// loadData downloads MNIST once and gives every worker a copy, which Go checks (size, SHA-256)
// and parses. Nothing is trained on unless all four files pass.
async function loadData(again) {
  $('retry').hidden = true;
  $('download').hidden = false;
  $('download-text').hidden = false;
  setStatus(`Downloading the MNIST digits (${(mnistBytes / 1e6).toFixed(1)} MB)…`, 'busy');
  let files;
  try {
    let pixels;
    if (mnist && !again) {
      ({ files, pixels } = mnist);
    } else {
      const r = await loadFiles(state.info.files, (files, again) => download(files, { again, onProgress: showDownload }), again);
      files = r.files;
      timings.cachedFiles = r.cached;
    }
    timings.downloaded = Math.round(performance.now());
    setStatus('Checking and unpacking the MNIST digits…', 'busy');
    if (!pixels) {
      // Worker 0 checks and unpacks the training images, and the page keeps them for all.
      const name = state.info.files.find((f) => f.trainImages).name;
      pixels = await trainer.request('unpackImages', [files[name]]);
      files = { ...files };
      delete files[name];
    }
    const r = await trainer.loadData(files, pixels);
    mnist = { files, pixels };
    state.loaded = true;
    state.trainImages = r.train;
    timings.loaded = Math.round(performance.now());
    const workers = trainer.count === 1 ? '' : trainer.active ? ` Training uses ${trainer.active > 1 ? `${trainer.active} workers` : 'one worker'}.` :
      ` Training uses up to ${trainer.count} workers: how many train fastest in this browser is measured before the first run.`;
    if (settingsProblem || urlProblem) {
      setStatus(`Check the settings: ${settingsProblem || urlProblem}`, 'error'); // the URL's, still to fix
    } else {
      setStatus(`Ready: ${r.train.toLocaleString('en')} training and ${r.test.toLocaleString('en')} test images, checked.${workers} Press Train.`);
    }
    host.post('ready', { settings: state.values, presets: state.info.presets.map((p) => p.name), workers: trainer.count });
    window.mnistBoot?.ready(); // from now on the page says itself what goes wrong (boot.js)
    keepOffline();
    $('download').hidden = true;
    $('download-text').hidden = true;
    refreshFeatures();
  } catch (err) {
    if (trainer.failing) return;
    // Go's errors name the file: "mnist: t10k-labels-idx1-ubyte.gz corrupted: SHA-256 is …".
    setStatus(files ? `Could not load MNIST: ${err.message.replace(/^mnist: /, '')}` : err.message, 'error');
    host.post('error', { message: $('status').textContent });
    $('download').hidden = true;
    $('download-text').hidden = true;
    $('retry').hidden = false;
  }
  updateControls();
}
$('retry').addEventListener('click', () => loadData(true));

// Restart replaces a team that has failed with a new one of the same size.
$('restart').addEventListener('click', () => {
  $('restart').hidden = true;
  setStatus('Restarting the trainer…', 'busy');
  trainer.start(trainer.count, measureTeam);
});

updateControls();
// What this browser lacks of what the page can do without, and what that costs (features.js).
$('limits').textContent = unavailableText();
$('limits').hidden = !$('limits').textContent;
try {
  showPanels();
  trainer.start(workerCount(), measureTeam);
} catch (err) {
  setStatus(err.message, 'error');
}

// A read-only view for the browser tests and the benchmark: the data the loss chart draws,
// timings (ms since the page started loading: ready, downloaded, loaded, train (the click),
// firstProgress),
// the team's size, each worker's WebAssembly memory, and a way to make a worker fail.
window.__mnist = Object.freeze({
  get chart() {
    return structuredClone(chart.data);
  },
  get offline() {
    return offline;
  },
  // The text of main.wasm's custom section name, or null: tells which main.wasm the page runs.
  wasmSection: async (name) => {
    const [section] = WebAssembly.Module.customSections(await wasmModule(), name);
    return section ? new TextDecoder().decode(section) : null;
  },
  // The service worker's answer to this visit's snapshot ({ok, error}), once it has given one.
  get snapshot() {
    return snapshotReply;
  },
  get timings() {
    return { ...timings };
  },
  get workers() {
    return trainer.count;
  },
  // The team that trains: how many workers, and what was measured to choose it (null before).
  get team() {
    return { training: trainer.training, measured: trainer.measured && structuredClone(trainer.measured) };
  },
  get failure() {
    return trainer.failure;
  },
  memory: () => trainer.memory(),
  // The Runs list: each run's id, name, status, test accuracy, whether it is stored, and why not.
  get runs() {
    return runs.rows.map((r) => ({ id: r.id, name: r.name, status: r.record?.status ?? '', accuracy: r.record && recordTest(r.record) ? recordTest(r.record).accuracy : null, kept: r.kept, problem: r.problem, weights: r.record?.weights ?? null }));
  },
  get current() {
    return state.currentRunId;
  },
  // The SHA-256 (hex) of a run's weights file, as Export weights would save it: the engines'
  // tests compare the runs of the same settings bit for bit.
  weightsSHA256: async (id) => {
    const digest = await crypto.subtle.digest('SHA-256', await runs.weightsOf(id));
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  },
  // The comparison: each series' name and points, and the table's rows.
  get compare() {
    return { series: comparePanel.chart.data, rows: comparePanel.part('table').tBodies[0].rows.length, figures: comparePanel.part('figures').children.length };
  },
  get queue() {
    const q = experiments.queue;
    return q ? { remaining: [...q.remaining], done: [...q.done], running: q.running } : null;
  },
  crashWorker: (i, how) => trainer.crash(i, how), // how: 'throw', 'panic' or 'oom' (workers.js)
});
