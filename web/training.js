// The run: Train, Pause and Stop, the run's figures and its loss chart while it trains, and its
// record in the Runs list (recorder.js), from its settings to its weights. It announces, as
// CustomEvents: ended {row, status, error, code, wallMs} when a run has ended and been recorded (status:
// 'finished', 'stopped', 'diverged' or 'failed'), and record-problem {message} when the browser
// refuses to keep part of it.
import { runShape } from './estimate.js';
import { clock, percent, plural, rate } from './format.js';
import { sentence } from './util.js';

const $ = (id) => document.getElementById(id);

// A run's figures and its loss chart show at most once a second, in one frame: the workers send
// up to four progress events a second, and each drawing costs the page's main thread a frame
// (style, layout, paint, and a hit test under the mouse pointer).
const showEvery = 1000;

const stats = ['stat-step', 'stat-epoch', 'stat-loss', 'stat-speed', 'stat-elapsed', 'stat-eta'];

export class Training extends EventTarget {
  // timings: ms since the page started loading, for the tests (train: the click, firstProgress).
  constructor({ state, team, form, config, chart, recorder, timings }) {
    super();
    Object.assign(this, { state, team, form, config, chart, recorder, timings });
    this.row = null; // the run that trains now: its row in the Runs list
    this.progress = { shown: 0, timer: 0, latest: null }; // the figures drawn, and waiting to be
    $('settings').addEventListener('submit', (e) => {
      e.preventDefault();
      this.train();
    });
    $('pause').addEventListener('click', () => this.togglePause());
    $('stop').addEventListener('click', () => this.stop());
    $('chart-log').addEventListener('change', () => chart.setLog($('chart-log').checked));
    state.watch(['loaded', 'training', 'tooLarge', 'paused', 'waiting'], (s) => {
      $('train').disabled = !s.loaded || s.training || s.tooLarge;
      $('pause').disabled = !s.training || s.waiting;
      $('pause').textContent = s.paused ? 'Resume' : 'Pause';
      $('stop').disabled = !s.training;
      document.body.classList.toggle('training', s.training);
    });
    // The team may be chosen before any Train (team.js, prepare): the page says so only to a run
    // that waits for it.
    team.addEventListener('measuring', ({ detail: m }) => {
      if (!state.training) return;
      state.say(`Training: measuring how many of the ${m.count} workers train fastest in this browser, once (a few seconds)…`, 'busy');
    });
    // The kernels this build runs, beside "Speed": they change only with main.wasm.
    state.watch(['info'], ({ info }) => {
      $('stat-kernels').textContent = info ? info.kernels : '';
    });
    team.addEventListener('team', () => {
      $('stat-speed').title = this.teamText();
      if (!state.training) return;
      this.timings.measured = Math.round(performance.now());
      // The worker that measured alone then starts afresh (team.js, renew): the run waits for it if it trains.
      state.say(`Training: ${team.active > 1 ? `${team.active} workers train` : 'one worker trains'} fastest in this browser; starting ${team.active > 1 ? 'them' : 'it'}…`, 'busy');
    });
    team.addEventListener('waiting', () => {
      state.say('Waiting for the other trainer in this browser: one trains at a time, so that they do not share the cores. This one starts when that one ends or is stopped.', 'busy');
      state.set({ waiting: true });
    });
    team.addEventListener('progress', ({ detail }) => this.onProgress(detail));
    team.addEventListener('evaluating', ({ detail: m }) => {
      const what = m.what === 'loss'
        ? `measuring the loss on ${m.total.toLocaleString('en')} training images`
        : m.what === 'digits' ? `testing on My digits (${m.total.toLocaleString('en')})`
          : `testing on ${m.done.toLocaleString('en')} of ${m.total.toLocaleString('en')} test images`;
      if (!state.paused) state.say(`Epoch ${m.epoch} of ${m.epochs}: ${what}…`, 'busy');
    });
    team.addEventListener('epoch', ({ detail }) => this.onEpoch(detail));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * train trains a fresh network on the settings in the form, and records the run. It resolves
   * with how the run ended, {row, status}, or with null if it did not start (a setting refused).
   */
  async train() {
    const { state, team, config, chart, timings } = this;
    if (state.urlProblem) {
      state.say(`Check the settings: ${state.urlProblem}`, 'error');
      return null;
    }
    timings.train = Math.round(performance.now());
    for (const k of ['measured', 'started', 'firstProgress', 'ended']) delete timings[k];
    const n = config.testImages();
    if (n < 0 || !(await config.configure(this.form.values(), false))) return null;
    const before = state.currentRunId; // current again if the run diverges
    const { summary, values, info } = state;
    const { perEpoch, totalSteps } = runShape(values, state.trainImages, state.digits?.labels.length);
    const row = this.recorder.begin({
      settings: { ...values }, preset: this.form.preset, testImages: n,
      workers: team.count, kernels: info.kernels, kernelList: info.kernelList,
      params: summary.total, macs: summary.macs, stepsPerEpoch: perEpoch, totalSteps,
    });
    this.row = row;
    // The speeds of this run are of this network.
    state.set({ training: true, paused: false, runMacs: summary.macs, currentRunId: row.id });
    chart.clear(0);
    clearTimeout(this.progress.timer);
    this.progress.timer = 0;
    for (const id of stats) $(id).textContent = '–';
    $('run-progress').value = 0;
    state.say('Training: preparing the network (the first step takes longest)…', 'busy');
    let started = performance.now();
    let status = 'finished';
    let error = '';
    let code = ''; // error's
    // A team that fails says why itself (startup.js, die), and may have started a new team before
    // this run's request fails, when failing is false again: the failure is not said again over
    // what die says (a red "Training failed" flashed before "The run did not train").
    let teamFailed = false;
    const onFailed = () => {
      teamFailed = true;
    };
    team.addEventListener('failed', onFailed);
    try {
      // My digits go with the run (mydigits.js): tested after each epoch, mixed in by mix-digits.
      const digits = state.digits && { images: state.digits.images, labels: state.digits.labels };
      const r = await team.train({ testImages: n, digits }, () => {
        row.record.workers = team.active; // chosen by measurement before the first run
        started = performance.now();
        timings.started = Math.round(started);
        if (!timings.firstProgress) state.say('Training: preparing the network (the first step takes longest)…', 'busy');
        state.set({ waiting: false });
      });
      status = r.stopped ? 'stopped' : 'finished';
      const test = state.report?.test;
      const acc = test ? ` Test accuracy ${percent(test.accuracy)}.` : '';
      state.say(r.stopped ? `Stopped after ${plural(r.epochs, 'complete epoch')}.${r.epochs ? acc : ''}` :
        `Finished: ${plural(r.epochs, 'epoch')}.${acc} Draw a digit to try the network.`);
    } catch (err) {
      status = err.code === 'diverged' ? 'diverged' : 'failed';
      error = err.message;
      code = err.code || 'failed';
      if (status === 'diverged') state.set({ currentRunId: before }); // the model from before the run is back
      if (!team.failing && !teamFailed) {
        state.say(`Training failed: ${sentence(err.message)}`, 'error');
        this.form.mark(err.key, err.message); // a run that diverged: the learning rate
      }
    } finally {
      team.removeEventListener('failed', onFailed);
      this.flushProgress();
      timings.ended = Math.round(performance.now());
      this.row = null;
      state.set({ training: false, paused: false, waiting: false, model: state.model + 1 });
    }
    // The weights are kept with the run, unless it diverged (they are gone) or the team failed.
    let weights = null;
    if (status === 'finished' || status === 'stopped') {
      weights = await team.exportWeights().catch((err) => {
        error = `its weights could not be exported: ${err.message}`;
        code = err.code || 'failed';
        return null;
      });
    }
    const wallMs = Math.round(performance.now() - started);
    const problem = await this.recorder.end(row, { status, error, wallMs, weights });
    if (problem) this.emit('record-problem', { message: problem });
    this.emit('ended', { row, status, error, code, wallMs });
    return { row, status };
  }

  /** togglePause pauses the run after its step under way, or resumes it. */
  async togglePause() {
    const { state } = this;
    try {
      await (state.paused ? this.team.resume() : this.team.pause());
      this.flushProgress(); // the step the run paused after
      state.set({ paused: !state.paused });
      state.say(state.paused ? 'Paused. Drawing and the visualisations still work.' : 'Training…', 'busy');
    } catch (err) {
      state.say(err.message, 'error');
    }
  }

  /** stop ends the run after its step under way. */
  async stop() {
    try {
      this.state.say('Stopping…', 'busy');
      await this.team.stop();
    } catch (err) {
      this.state.say(err.message, 'error');
    }
  }

  onProgress(m) {
    const { state, chart } = this;
    if (this.row) this.recorder.progress(this.row, m);
    chart.data.totalSteps = m.steps;
    chart.addPoints(m.points);
    state.set({ speed: m.imagesPerSec, speedMacs: state.runMacs });
    if (this.timings.firstProgress === undefined) this.timings.firstProgress = Math.round(performance.now());
    if (m.step === 1 && !state.paused) state.say(`Training: epoch 1 of ${m.epochs}.`, 'busy');
    this.showProgress(m);
  }

  onEpoch(m) {
    if (this.row) this.recorder.epoch(this.row, m).then((problem) => problem && this.emit('record-problem', { message: problem }));
    this.flushProgress();
    this.chart.addEpoch(m.step, m.trainLoss);
    if (m.test) this.state.set({ report: { test: m.test, text: `after epoch ${m.epoch} of ${m.epochs}` } });
    const acc = (m.test ? `, test accuracy ${percent(m.test.accuracy)}` : '') + (m.digits ? `, My digits ${percent(m.digits.accuracy)}` : '');
    this.state.say(`Epoch ${m.epoch} of ${m.epochs} done: training loss ${m.trainLoss.toFixed(3)}${acc}.`, m.epoch < m.epochs ? 'busy' : '');
  }

  // showProgress draws m, the latest progress, within showEvery of the last drawing.
  showProgress(m) {
    const p = this.progress;
    p.latest = m;
    if (p.timer) return;
    p.timer = setTimeout(() => {
      p.timer = 0;
      p.shown = performance.now();
      this.drawProgress(p.latest);
    }, Math.max(0, p.shown + showEvery - performance.now()));
  }

  // flushProgress draws the latest figures now, if some wait: when the run pauses or ends, what
  // shows is where it stopped.
  flushProgress() {
    const p = this.progress;
    if (!p.timer) return;
    clearTimeout(p.timer);
    p.timer = 0;
    p.shown = performance.now();
    this.drawProgress(p.latest);
  }

  drawProgress(m) {
    const { info } = this.state;
    this.chart.draw();
    $('stat-step').textContent = `${m.step.toLocaleString('en')} / ${m.steps.toLocaleString('en')}`;
    $('stat-epoch').textContent = `${m.epoch} / ${m.epochs}`;
    $('stat-loss').textContent = `${m.smoothLoss.toFixed(3)}`;
    $('stat-loss').title = `this batch: ${m.loss.toFixed(3)}; smoothed: ${m.smoothLoss.toFixed(3)}`;
    $('stat-speed').textContent = `${rate(m.imagesPerSec)} img/s`;
    $('stat-speed').title = this.teamText() +
      (info.kernelList.length ? `; SIMD kernels: ${info.kernelList.join(', ')}` : '; generic kernels (built without SIMD)');
    $('stat-elapsed').textContent = clock(m.elapsedMs);
    $('stat-eta').textContent = m.step > 1 ? clock(m.etaMs) : '–';
    $('run-progress').value = m.step / m.steps;
  }

  // teamText says who trains: how many workers, and what the page measured to choose them.
  teamText() {
    const { team } = this;
    const n = team.active;
    const m = team.measured;
    const who = n > 1 ? `Training uses ${n} workers, each on its share of every batch` : 'Training uses one worker';
    if (!m) return team.chosen ? who : `${who} (to be measured in this browser)`;
    const speeds = Object.entries(m.speeds).map(([size, v]) => `${plural(Number(size), 'worker')} ${rate(v)} img/s`).join(', ');
    return `${who}, the fastest measured in this browser (${speeds})`;
  }
}
