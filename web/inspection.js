// Inspection: what the current model makes of the test images and of a drawing. The
// classification report and confusion matrix of the test result shown (state.report) and the
// digits of a cell; the Evaluate button; the kernels, the feature maps and the drawing's
// probabilities, which follow the model as it changes (state.model) and as it trains. It says
// predicted (a CustomEvent) once the drawing's probabilities show.
import { percent } from './format.js';
import { DrawPad } from './pad.js';
import { ConfusionPanel, ReportPanel } from './report.js';
import { coalesced } from './util.js';
import { FeaturesPanel, KernelsPanel } from './visuals.js';

const $ = (id) => document.getElementById(id);
const section = (panel) => document.querySelector(`[data-panel="${panel}"]`);
const visible = (panel) => !section(panel).hidden;

// refreshEvery is how often, in ms, the figures follow a run as it trains: every few seconds,
// as the student watches it learn.
const refreshEvery = 4000;

export class Inspection extends EventTarget {
  // config: the Configuration, which says how many test images to evaluate.
  constructor({ state, team, config }) {
    super();
    Object.assign(this, { state, team, config });
    this.reportPanel = new ReportPanel(section('report'));
    this.confusionPanel = new ConfusionPanel(section('confusion'));
    this.kernelsPanel = new KernelsPanel(section('kernels'));
    this.featuresPanel = new FeaturesPanel(section('features'));
    this.drawPad = new DrawPad(section('draw'));
    this.lastRefresh = 0;

    this.refreshKernels = coalesced(async () => {
      if (!visible('kernels') || !state.ready) return;
      this.kernelsPanel.show(await team.kernels());
    });
    this.refreshFeatures = coalesced(() => this.showFeatures());
    this.predict = coalesced(() => this.showPrediction());

    state.watch(['report'], ({ report }) => {
      if (!report) return;
      if (report.test) {
        this.reportPanel.show(report.test, report.text);
        this.confusionPanel.show(report.test.confusion);
      } else {
        this.reportPanel.clear(report.text);
        this.confusionPanel.clear();
      }
    });
    state.watch(['loaded', 'training'], () => this.showControls());
    state.on(['model'], () => this.refresh());
    state.on(['loaded'], ({ loaded }) => loaded && this.refreshFeatures());
    team.addEventListener('epoch', () => this.refresh());
    team.addEventListener('progress', () => {
      if (performance.now() - this.lastRefresh > refreshEvery) this.refresh();
    });
    this.confusionPanel.section.addEventListener('confusion-cell', (e) => this.showCell(e.detail));
    $('evaluate').addEventListener('click', () => this.evaluate());
    this.featuresPanel.section.addEventListener('feature-source', () => this.refreshFeatures());
    this.drawPad.section.addEventListener('pad-ink', () => this.predict());
    this.drawPad.section.addEventListener('pad-clear', () => {
      if (this.drawingShown) this.refreshFeatures();
    });
  }

  /** hasDrawing is true while there is a drawing on the pad. */
  get hasDrawing() {
    return this.drawPad.hasInk;
  }

  /** drawing is the pad's drawing, a Drawing (protocol.md). */
  drawing() {
    return this.drawPad.pixels();
  }

  /** clearDrawing clears the pad as its Clear button does, for the next drawing (mydigits.js). */
  clearDrawing() {
    $('clear').click();
  }

  get drawingShown() {
    return this.featuresPanel.source === 'drawing';
  }

  showControls() {
    $('evaluate').disabled = !this.state.loaded || this.state.training;
  }

  // refresh shows the current model's kernels, feature maps and probabilities for the drawing.
  refresh() {
    this.lastRefresh = performance.now();
    this.refreshKernels();
    this.refreshFeatures();
    if (this.drawPad.hasInk) this.predict();
  }

  async showFeatures() {
    const { state, featuresPanel } = this;
    if (!visible('features') || !state.ready) return;
    let source = featuresPanel.source;
    if (source === 'drawing') {
      if (!this.drawPad.hasInk) {
        featuresPanel.message('Draw a digit on the drawing pad to see what each layer makes of it.');
        return;
      }
      source = this.drawPad.pixels();
    } else if (!state.loaded) {
      featuresPanel.message('The test images appear once MNIST is loaded.');
      return;
    }
    try {
      featuresPanel.show(await this.team.featureMaps(source));
    } catch (err) {
      featuresPanel.message(err.message);
    }
  }

  async showPrediction() {
    const { drawPad } = this;
    if (!drawPad.hasInk || !this.state.ready) return;
    let r;
    try {
      r = await this.team.predict(drawPad.pixels());
    } catch (err) {
      drawPad.showPrediction(err);
      return;
    }
    if (!drawPad.hasInk) return; // cleared meanwhile
    drawPad.showPrediction(r);
    if (this.drawingShown) this.refreshFeatures();
    this.dispatchEvent(new CustomEvent('predicted'));
  }

  // showCell shows the digits of a cell of the confusion matrix. A run made current brings its
  // report but not worker 0's evaluation of it: that is made now, on the same test images, and
  // gives the same matrix.
  async showCell({ label, predicted }) {
    const { team, confusionPanel } = this;
    const cell = () => team.cellDigits(label, predicted, 60);
    try {
      const r = await cell().catch(async (err) => {
        if (err.code !== 'no-evaluation' || this.state.training) throw err;
        confusionPanel.cellMessage('Finding the digits of this cell…');
        await team.evaluate(Math.max(0, this.config.testImages()));
        return cell();
      });
      confusionPanel.showCell(label, predicted, r);
    } catch (err) {
      confusionPanel.cellMessage(err.message);
    }
  }

  async evaluate() {
    const { state } = this;
    const n = this.config.testImages();
    if (n < 0) return;
    $('evaluate').disabled = true;
    state.say(`Evaluating the current model on ${(n || 10000).toLocaleString('en')} test images…`, 'busy');
    try {
      const test = await this.team.evaluate(n);
      state.set({ report: { test, text: 'evaluated now' } });
      state.say(`Evaluated: test accuracy ${percent(test.accuracy)}.`);
    } catch (err) {
      state.say(`Evaluation failed: ${err.message}`, 'error');
    } finally {
      this.showControls();
    }
  }
}
