// The next run's configuration: the Train panel's settings (settings.js) go to the workers as the
// student changes them; a refusal shows under its control and in the status line, and stops Train
// until a setting changes; the Model panel shows the configured network, and the Train panel its
// memory warning and how long a run will take. A run, a stored run, a weights file and the host
// page change the settings through it.
import { CodedError } from './errors.js';
import { estimateText } from './estimate.js';
import { quoted } from './format.js';
import { ModelPanel } from './weights.js';

const $ = (id) => document.getElementById(id);

/**
 * quickSettings are what "Quick run settings" sets, by URL key: 100 steps of 64 images at learning
 * rate 0.001, then the loss and the test accuracy on 1,000 images each. On the reference 2-core
 * machine (about 2,000 images/s with two workers in Chromium) that is about 3 s of training and
 * half a second of evaluation (the whole quick run: 3.5–5.3 s, make bench). Natively over 16
 * seeds it ends at 93.5–96.0%, 94.3% on average; at higher rates a run this short ends wherever
 * Adam's larger steps left it (0.00125: 92.9–95.9%; 0.0015: 92.6–96.5%; the notebook's 0.005 at
 * 10,240 images: 92.9–94.8%), and the earlier quick run, 10,240 images at 0.002, took 60% longer
 * for 93.2–95.7% (BENCHMARKS.md).
 */
export const quickSettings = Object.freeze({ 'train-images': '6400', 'loss-images': '1000', epochs: '1', batch: '64', lr: '0.001', 'test-images': '1000' });

export class Configuration {
  // form: the Train panel's SettingsForm; state: the PageState; team: the Team.
  constructor({ state, team, form }) {
    Object.assign(this, { state, team, form });
    this.modelPanel = new ModelPanel(document.querySelector('[data-panel="model"]'));
    this.timer = 0;
    $('settings').addEventListener('input', (e) => {
      state.set({ urlProblem: '' });
      if (e.target.id === 'preset') return;
      form.matchPreset();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        if (e.target.id !== 'test-images' || this.testImages() >= 0) this.configure(form.values(), false);
      }, 250);
    });
    $('preset').addEventListener('change', () => {
      const architecture = form.presetValues(form.preset);
      if (!architecture) return;
      form.fill(architecture);
      this.configure(form.values(), false);
    });
    $('quick').addEventListener('click', () => {
      form.fill(quickSettings);
      this.configure(form.values(), false);
    });
    state.watch(['ready', 'training'], ({ ready, training }) => {
      $('settings-fields').disabled = !ready || training;
      $('quick').disabled = !ready || training;
    });
    // The estimate follows the settings, and the speed measured once a run has ended.
    state.watch(['values', 'summary', 'training', 'digits'], ({ values }) => {
      if (values) $('estimate').textContent = estimateText(state, Math.max(0, Number(form.testImagesText) || 0));
    });
  }

  // refuse shows a refused setting, {code, key, message}: under its control and in the status line.
  refuse(refusal) {
    this.clearRefusals();
    this.form.mark(refusal.key, refusal.message);
    this.state.set({ refusal });
    this.state.say(`Check the settings: ${refusal.message}`, 'error');
  }

  // clearRefusals removes the refusals shown, and the URL's.
  clearRefusals() {
    this.form.clearErrors();
    this.state.set({ refusal: null, urlProblem: '' });
  }

  /**
   * configure sends settings (a query string or {key: text}) to the workers, and fill puts the
   * values they answer into the form. It resolves with whether a run may start with them: false
   * after showing why not.
   */
  async configure(settings, fill) {
    const { state } = this;
    try {
      const r = await this.team.configure(settings);
      const wasRefused = state.refusal !== null;
      this.clearRefusals();
      if (wasRefused && !state.training) state.say(state.loaded ? 'Ready to train.' : 'Loading MNIST…');
      if (fill) this.form.fill(r.values);
      this.accept(r);
      return !state.tooLarge;
    } catch (err) {
      if (this.team.failing) return false; // the status says why
      this.refuse(err);
      return false;
    }
  }

  /**
   * accept takes what the workers answered for a configuration, {values, summary}: a network too
   * large to fit in a tab is refused as a setting is, under the setting that drives it, and Train
   * stays disabled until a setting changes; a large one gets a warning above Train.
   */
  accept({ values, summary }) {
    const { memory } = summary;
    this.state.set({ values, summary, tooLarge: Boolean(memory.refusal) });
    this.modelPanel.show(summary);
    if (memory.refusal) this.refuse({ code: 'memory', key: memory.keys[0], message: memory.refusal });
    $('memory-warning').textContent = memory.warning;
    $('memory-warning').hidden = !memory.warning;
  }

  // adopt shows the configuration of a weights file the workers took, {values, summary}.
  adopt(reply) {
    this.form.fill(reply.values);
    this.clearRefusals();
    this.accept(reply);
  }

  /** testImages is the number of test images to evaluate after each epoch, or -1 after showing why the control's value is refused. */
  testImages() {
    const text = this.form.testImagesText;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 10000) {
      this.refuse({ code: 'invalid-setting', key: 'test-images', message: `test-images: ${quoted(text)} must be a whole number from 0 to 10000 (0 = all).` });
      return -1;
    }
    return n;
  }

  /**
   * apply changes settings as a student would, for the host page's configure command: {key:
   * value}, preset and test-images included. It resolves with the values the workers accepted, or
   * rejects with a CodedError naming the setting, and then nothing changes.
   */
  async apply(settings) {
    const { state, form } = this;
    if (state.training) throw new CodedError('busy', 'configure: a run is under way');
    if (!settings || typeof settings !== 'object') throw new CodedError('invalid-request', 'configure: settings must be an object of setting names and values');
    const known = new Set([...state.info.fields.map((f) => f.key), 'preset', 'test-images']);
    const unknown = Object.keys(settings).filter((k) => !known.has(k));
    if (unknown.length) throw new CodedError('invalid-request', `configure: ${quoted(unknown[0])} is not a setting; the settings are ${[...known].join(', ')}`);
    const next = { ...form.values() };
    if (settings.preset !== undefined) {
      const architecture = form.presetValues(String(settings.preset));
      if (!architecture) throw new CodedError('invalid-setting', `preset: ${quoted(String(settings.preset))} is not a preset; the presets are ${state.info.presets.map((p) => p.name).join(', ')}`, 'preset');
      Object.assign(next, architecture);
    }
    for (const [k, v] of Object.entries(settings)) if (k !== 'preset') next[k] = String(v); // test-images too
    const locked = form.lockProblem(next);
    if (locked) throw locked;
    form.fill(next);
    if (this.testImages() < 0 || !(await this.configure(form.values(), false))) {
      const refusal = state.refusal;
      throw new CodedError(refusal?.code ?? 'invalid-setting', refusal?.message || 'configure: the settings were refused', form.invalidKey);
    }
    return state.values;
  }
}
