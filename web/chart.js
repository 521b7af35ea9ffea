// Loss charts on uPlot (web/vendor/, installed from package-lock.json by `make web`): the live
// chart of the run that trains or is current, and the chart that compares runs. uPlot brings the
// legend with its hover readout, the log scale and fast redraws of thousands of points.
import uPlot from './vendor/uPlot.esm.js';

/** colors of the live chart's series. */
const colors = { raw: '#b9c2e8', smooth: '#3b4cca', epoch: '#e8590c', grid: '#e6e8ef', axis: '#5b6275' };

/** runColors tells the compared runs apart (colour-blind-safe order from Tableau's 10). */
export const runColors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const loss3 = (u, v) => (v == null ? '–' : v.toFixed(3));

// Plot is one uPlot chart in box that follows the box's width and can switch to a log y scale.
// A message shows over it while it has no data.
class Plot {
  constructor(box, { xLabel, series, emptyText, height = 260 }) {
    this.box = box;
    this.xLabel = xLabel;
    this.series = series;
    this.height = height;
    this.log = false;
    this.aligned = [[]];
    this.empty = document.createElement('p');
    this.empty.className = 'chart-empty';
    this.empty.textContent = emptyText;
    box.append(this.empty);
    this.frame = 0;
    // The plot takes its box's new width in the next frame, not in the observer's callback: there
    // its new size changed the layout again, which every engine reports as an uncaught
    // "ResizeObserver loop completed with undelivered notifications" (as a window is resized).
    this.resizeFrame = 0;
    this.observer = new ResizeObserver(() => {
      this.resizeFrame ||= requestAnimationFrame(() => {
        this.resizeFrame = 0;
        this.plot?.setSize(this.size());
      });
    });
    this.observer.observe(box);
  }

  size() {
    return { width: Math.max(200, this.box.clientWidth), height: this.height };
  }

  // setLog switches the y scale between linear and logarithmic: late in a run the loss changes
  // by hundredths, which a linear scale flattens.
  setLog(log) {
    this.log = log;
    this.rebuild();
  }

  // yRange keeps a few early spikes from flattening the curve on the linear scale: the top is
  // at most twice the largest smoothed value (the series marked `bounds`).
  yRange(u, min, max) {
    if (this.log) return uPlot.rangeLog(Math.max(min, 1e-4), max, 10, true);
    const bounded = this.aligned.slice(1).filter((_, i) => this.series[i].bounds).flat().filter((v) => v != null);
    const top = bounded.length ? Math.min(max, 2 * Math.max(...bounded)) : max;
    return [0, top > 0 ? top * 1.05 : 1];
  }

  rebuild() {
    this.plot?.destroy();
    this.plot = null;
    const plot = this;
    const opts = {
      ...this.size(),
      scales: {
        x: { time: false },
        y: { distr: this.log ? 3 : 1, log: 10, range: (u, min, max) => plot.yRange(u, min, max) },
      },
      axes: [
        { label: this.xLabel, stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid } },
        { label: this.log ? 'loss (log scale)' : 'loss', stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid }, size: 52 },
      ],
      series: [{ label: this.xLabel, value: (u, v) => (v == null ? '–' : formatX(v)) }, ...this.series.map((s) => ({ value: loss3, ...s }))],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    this.plot = new uPlot(opts, this.aligned, this.box);
    this.box.append(this.empty); // over the plot
  }

  // setData draws aligned data: [xs, ys of each series...] (null where a series has no value).
  setData(aligned) {
    this.aligned = aligned;
    this.empty.hidden = aligned[0].length > 0;
    if (!this.plot) this.rebuild();
    else if (!this.frame) {
      // At most one redraw per frame, however many progress events come before it.
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.plot?.setData(this.aligned);
      });
    }
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.resizeFrame);
    this.observer.disconnect();
    this.plot?.destroy();
  }
}

const formatX = (v) => (Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(2));

/**
 * LossChart is the chart of one run: each batch's loss, its smoothed curve, and the training-set
 * loss measured after each epoch as points. While a run trains the x axis ends at the latest
 * step, so the first minutes are not squeezed against the left edge of the whole run.
 */
export class LossChart {
  constructor(box) {
    this.plot = new Plot(box, {
      xLabel: 'step',
      emptyText: 'The loss appears here while the network trains.',
      series: [
        { label: 'loss of each batch', stroke: colors.raw, width: 1, points: { show: false } },
        { label: 'smoothed', stroke: colors.smooth, width: 2.5, bounds: true, points: { show: false } },
        { label: 'training-set loss after each epoch', stroke: colors.epoch, width: 0, paths: () => null,
          points: { show: true, size: 9, fill: colors.epoch, stroke: '#fff', width: 2 }, bounds: true },
      ],
    });
    this.clear(0);
  }

  // clear starts a new run of totalSteps steps.
  clear(totalSteps) {
    // The data the chart draws; tests read a copy of it through window.__mnist.chart.
    this.data = { steps: [], loss: [], smooth: [], epochs: [], totalSteps };
    this.draw();
  }

  // show draws a whole recorded curve: {steps, loss, smooth} and epochs [{step, loss}].
  show(curve, epochs, totalSteps) {
    this.data = { steps: [...curve.steps], loss: [...curve.loss], smooth: [...curve.smooth], epochs: epochs.map((e) => ({ ...e })), totalSteps };
    this.draw();
  }

  // addPoints appends [step, loss, smoothLoss] triples (a progress event's points). They show at
  // the next draw(): the page draws a run’s progress at most once a second (training.js).
  addPoints(points) {
    for (const [step, loss, smooth] of points) {
      this.data.steps.push(step);
      this.data.loss.push(loss);
      this.data.smooth.push(smooth);
    }
  }

  // addEpoch marks the training-set loss measured after an epoch that ended at step.
  addEpoch(step, loss) {
    this.data.epochs.push({ step, loss });
    this.draw();
  }

  setLog(log) {
    this.plot.setLog(log);
  }

  draw() {
    const { steps, loss, smooth, epochs } = this.data;
    const atStep = new Map(epochs.map((e) => [e.step, e.loss]));
    this.plot.setData([steps, loss, smooth, steps.map((s) => atStep.get(s) ?? null)]);
  }
}

/**
 * CompareChart draws the smoothed loss of several runs against epochs (so that runs with other
 * batch sizes line up), one coloured series per run, with a legend and hover readout.
 */
export class CompareChart {
  constructor(box) {
    this.box = box;
    this.plot = null;
    this.log = false;
    this.runs = [];
  }

  // show draws runs: [{name, color, curve: {steps, smooth}, stepsPerEpoch}].
  show(runs) {
    this.runs = runs;
    this.plot?.destroy();
    this.box.replaceChildren();
    this.plot = new Plot(this.box, {
      xLabel: 'epoch',
      emptyText: 'These runs have no loss curve.',
      series: runs.map((r) => ({ label: r.name, stroke: r.color, width: 2, spanGaps: true, bounds: true, points: { show: false } })),
    });
    this.plot.log = this.log;
    const tables = runs.map((r) => [r.curve.steps.map((s) => s / r.stepsPerEpoch), r.curve.smooth]);
    this.plot.setData(tables.length ? uPlot.join(tables) : [[]]);
  }

  setLog(log) {
    this.log = log;
    this.plot?.setLog(log);
  }

  // data is what the chart draws, for the tests: each series' name and how many points it has.
  get data() {
    const aligned = this.plot ? this.plot.aligned : [[]];
    return this.runs.map((r, i) => ({ name: r.name, points: (aligned[i + 1] || []).filter((v) => v != null).length }));
  }

  destroy() {
    this.plot?.destroy();
  }
}
