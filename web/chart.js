// The loss chart, drawn on a canvas: each batch's loss, its smoothed curve, and the training-set
// loss measured after each epoch as points.

const colors = {
  raw: '#b9c2e8',
  smooth: '#3b4cca',
  epoch: '#e8590c',
  grid: '#e6e8ef',
  axis: '#5b6275',
};

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.clear(0);
    this.frame = 0;
    new ResizeObserver(() => this.redraw()).observe(canvas);
  }

  // clear starts a new run of totalSteps steps, the chart's x range.
  clear(totalSteps) {
    // The data the chart draws; tests read a copy of it through window.__mnist.chart.
    this.data = { steps: [], loss: [], smooth: [], epochs: [], totalSteps };
    this.redraw();
  }

  // addPoints appends [step, loss, smoothLoss] triples (a progress event's points).
  addPoints(points) {
    for (const [step, loss, smooth] of points) {
      this.data.steps.push(step);
      this.data.loss.push(loss);
      this.data.smooth.push(smooth);
    }
    this.redraw();
  }

  // addEpoch marks the training-set loss measured after an epoch that ended at step.
  addEpoch(step, loss) {
    this.data.epochs.push({ step, loss });
    this.redraw();
  }

  // redraw schedules one draw for the next animation frame, however many updates come before it.
  redraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const { canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px system-ui, sans-serif';

    const { steps, loss, smooth, epochs, totalSteps } = this.data;
    const pad = { left: 44, right: 12, top: 10, bottom: 30 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const xMax = Math.max(totalSteps, steps.length ? steps[steps.length - 1] : 0, 1);
    // A few early spikes should not flatten the curve: the top is at most twice the smoothed loss.
    const top = Math.max(...smooth, ...epochs.map((e) => e.loss), 0);
    const yMax = niceCeil(Math.min(Math.max(...loss, top), 2 * top) || 2.5);
    const x = (s) => pad.left + (s / xMax) * plotW;
    const y = (v) => pad.top + plotH - (Math.min(v, yMax) / yMax) * plotH;

    // Grid and axes.
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.axis;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of ticks(yMax, 5)) {
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
      ctx.lineTo(pad.left + plotW, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillText(formatTick(v), pad.left - 6, y(v));
    }
    if (totalSteps || steps.length) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const s of ticks(xMax, Math.max(2, Math.floor(plotW / 80)), 1)) {
        ctx.fillText(formatTick(s), x(s), pad.top + plotH + 6);
      }
      ctx.textAlign = 'right';
      ctx.fillText('step', pad.left + plotW, pad.top + plotH + 18);
    }

    if (!steps.length) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('The loss appears here while the network trains.', pad.left + plotW / 2, pad.top + plotH / 2);
      return;
    }
    line(ctx, steps, loss, x, y, colors.raw, 1);
    line(ctx, steps, smooth, x, y, colors.smooth, 2.5);
    for (const e of epochs) {
      ctx.beginPath();
      ctx.arc(x(e.step), y(e.loss), 5, 0, 2 * Math.PI);
      ctx.fillStyle = colors.epoch;
      ctx.fill();
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }
}

function line(ctx, xs, ys, x, y, color, width) {
  ctx.beginPath();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineJoin = 'round';
  xs.forEach((s, i) => (i ? ctx.lineTo(x(s), y(ys[i])) : ctx.moveTo(x(s), y(ys[i]))));
  ctx.stroke();
}

// niceCeil rounds v up to one of the multipliers times a power of ten.
function niceCeil(v, multipliers = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
  const p = 10 ** Math.floor(Math.log10(v));
  return multipliers.map((m) => m * p).find((c) => c >= v * 0.999);
}

// ticks returns about n round values from 0 to max, at least minStep apart.
function ticks(max, n, minStep = 0) {
  const step = Math.max(niceCeil(max / n, [1, 2, 2.5, 5, 10]), minStep);
  const out = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(v);
  return out;
}

function formatTick(v) {
  return Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(v < 1 ? 2 : 1).replace(/0$/, '');
}
