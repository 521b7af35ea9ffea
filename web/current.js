// The current model: the one worker 0 holds, which predictions, figures and evaluations use. The
// Weights panel exports it as a safetensors file and replaces it with one; a stored run replaces
// it with its weights (makeCurrent), and brings its settings, curve and report.
import { recordTest } from './store.js';
import { saveFile } from './util.js';
import { WeightsPanel } from './weights.js';

export class CurrentModel {
  // chart: the loss chart, which shows the current model's curve; recorder: the runs kept.
  constructor({ state, team, form, config, chart, recorder }) {
    Object.assign(this, { state, team, form, config, chart, recorder });
    const panel = new WeightsPanel(document.querySelector('[data-panel="weights"]'));
    this.panel = panel;
    state.watch(['ready', 'training'], ({ ready, training }) => panel.enable(ready, training));
    panel.section.addEventListener('weights-export', () => this.export());
    panel.section.addEventListener('weights-import', (e) => this.import(e.detail.file));
  }

  // changed says that the current model is another: its figures follow (inspection.js).
  changed() {
    this.state.set({ model: this.state.model + 1 });
  }

  async export() {
    try {
      const bytes = await this.team.exportWeights();
      saveFile(new Blob([bytes], { type: 'application/octet-stream' }), 'mnist-weights.safetensors');
      this.panel.message(`Exported mnist-weights.safetensors (${(bytes.length / 1e6).toFixed(1)} MB).`, 'ok');
    } catch (err) {
      this.panel.message(`Could not export: ${err.message}`, 'error');
    }
  }

  // import makes a weights file the current model, with its settings.
  async import(file) {
    const { state } = this;
    try {
      if (file.size > state.info.maxWeightsBytes) { // as Go would say, without reading the file
        const mb = (n) => Math.floor(n / 1e6);
        throw new Error(`weights file: ${mb(file.size)} MB, more than any weights file of this trainer (at most ${mb(state.info.maxWeightsBytes)} MB)`);
      }
      const data = new Uint8Array(await file.arrayBuffer());
      const r = await this.team.importWeights(data, this.form.locked);
      this.config.adopt(r); // the file's batch may be more than a tab can train
      this.chart.clear(0);
      // A file's model, not one of the recorded runs.
      state.set({ currentRunId: '', report: { test: null, text: 'Imported weights: press “Evaluate the current model” for their report.' } });
      this.panel.message(`Loaded ${file.name}: ${r.summary.total.toLocaleString('en')} parameters, filters ${r.values.filters}, kernel ${r.values.kernel}.`, 'ok');
      if (!state.tooLarge) state.say(`Loaded the weights from ${file.name}.`); // else the status says why Train refuses
    } catch (err) {
      this.panel.message(`Could not import ${file.name}: ${err.message}. The current model is unchanged.`, 'error');
    }
    this.changed(); // the predictions show which model is current
  }

  /**
   * makeCurrent loads the weights of row, a recorded run, into worker 0, and shows its settings,
   * curve, report and confusion matrix; the figures follow from the weights. It rejects, and
   * nothing changes, when the weights cannot be had or are refused.
   */
  async makeCurrent(row) {
    const { state, form } = this;
    const r = row.record;
    const bytes = (await this.recorder.weightsOf(row.id)).slice(); // a copy, moved to the worker
    const reply = await this.team.importWeights(bytes, form.locked);
    form.fill({ ...r.settings, 'test-images': r.testImages });
    this.config.clearRefusals();
    state.set({ values: reply.values });
    await this.config.configure(form.values(), false);
    state.set({ currentRunId: row.id });
    this.chart.show(r.curve, r.epochs.map((e) => ({ step: e.step, loss: e.trainLoss })), r.totalSteps);
    const test = recordTest(r);
    state.set({
      report: test ? { test, text: `from the run “${row.name}” (epoch ${r.epochs.findLast((e) => e.test).epoch})` }
        : { test: null, text: `The run “${row.name}” has no test results: press “Evaluate the current model”.` },
    });
    state.say(`“${row.name}” is the current model: draw a digit to try it.`);
    this.changed();
  }
}
