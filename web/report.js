// The Classification report and Confusion matrix panels. They show a TestResult (protocol.md);
// the confusion matrix asks for a cell's digits with a confusion-cell CustomEvent {label,
// predicted} and shows what it is given (showCell). Neither knows where results come from.
import { percent, plural } from './format.js';
import { drawImage } from './images.js';
import { headerCell, matrixTable } from './table.js';


/** ReportPanel is sklearn's classification_report, as a table and as text. */
export class ReportPanel {
  constructor(section) {
    this.section = section;
    this.$ = (id) => section.querySelector(`#${id}`);
  }

  // show shows test, evaluated when ("after epoch 1 of 2").
  show(test, when) {
    const $ = this.$;
    $('report-caption').textContent =
      `On ${test.images.toLocaleString('en')} test images, ${when}: accuracy ${percent(test.accuracy)}, loss ${test.loss.toFixed(3)}.`;
    const body = $('report').tBodies[0];
    body.replaceChildren();
    const row = (name, m, cls) => {
      const tr = body.insertRow();
      if (cls) tr.className = cls;
      tr.append(headerCell(name, 'row'));
      for (const v of m) tr.insertCell().textContent = v;
    };
    const f = (x) => x.toFixed(2);
    const r = test.report;
    r.classes.forEach((c, digit) => row(String(digit), [f(c.precision), f(c.recall), f(c.f1), c.support], 'digit'));
    row('accuracy', ['', '', f(r.accuracy), r.total], 'avg first');
    row('macro avg', [f(r.macroAvg.precision), f(r.macroAvg.recall), f(r.macroAvg.f1), r.macroAvg.support], 'avg');
    row('weighted avg', [f(r.weightedAvg.precision), f(r.weightedAvg.recall), f(r.weightedAvg.f1), r.weightedAvg.support], 'avg');
    $('report').hidden = false;
    $('report-text').textContent = test.reportText;
    $('report-text-box').hidden = false;
  }

  // clear shows caption instead of a report.
  clear(caption) {
    this.$('report-caption').textContent = caption;
    this.$('report').hidden = true;
    this.$('report-text-box').hidden = true;
  }
}

/** ConfusionPanel is the confusion matrix: each cell a button that shows its test images. */
export class ConfusionPanel {
  constructor(section) {
    this.section = section;
    this.$ = (id) => section.querySelector(`#${id}`);
    const table = this.$('confusion');
    table.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (b) this.emit(Number(b.dataset.label), Number(b.dataset.predicted));
    });
    // Arrow keys move between cells, as in a spreadsheet.
    table.addEventListener('keydown', (e) => {
      const b = e.target.closest('button');
      const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (!b || !moves[e.key]) return;
      const [dt, dp] = moves[e.key];
      const next = table.querySelector(`button[data-label="${Number(b.dataset.label) + dt}"][data-predicted="${Number(b.dataset.predicted) + dp}"]`);
      if (next) {
        e.preventDefault();
        next.focus();
      }
    });
  }

  emit(label, predicted) {
    this.section.dispatchEvent(new CustomEvent('confusion-cell', { detail: { label, predicted }, bubbles: true }));
  }

  // show draws matrix (rows: the true digit, columns: the predicted one).
  show(matrix) {
    const totals = matrix.map((row) => row.reduce((a, b) => a + b, 0) || 1);
    matrixTable(this.$('confusion'), 'true digit, predicted digit', matrix, (td, count, t, p) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = count;
      button.dataset.label = t;
      button.dataset.predicted = p;
      button.setAttribute('aria-label', `true ${t}, predicted ${p}: ${plural(count, 'image')}`);
      // Correct cells in blue by the share of their row; mistakes in orange, boosted, since they are rarer.
      const share = count / totals[t];
      const strength = t === p ? share : Math.min(1, 4 * share);
      const [r, g, b] = t === p ? [59, 76, 202] : [232, 89, 12];
      button.style.background = `rgba(${r}, ${g}, ${b}, ${(0.08 + 0.92 * strength).toFixed(3)})`;
      if (strength > 0.5) button.classList.add('dark');
      if (count === 0) button.classList.add('zero');
      td.append(button);
    });
    this.$('confusion-box').hidden = false;
  }

  clear() {
    this.$('confusion-box').hidden = true;
    this.cellMessage('');
    this.$('cell-digits').replaceChildren();
  }

  cellMessage(text) {
    this.$('cell-caption').textContent = text;
  }

  // showCell shows a cell's digits: r is cellDigits' answer {count, indices, images}.
  showCell(label, predicted, r) {
    const what = label === predicted ? `${plural(r.count, 'test image')} of a ${label}, predicted correctly`
      : `${plural(r.count, 'test image')} of a ${label} that the network took for a ${predicted}`;
    this.cellMessage(what + (r.count > r.images.length ? ` (the first ${r.images.length} shown).` : '.'));
    const grid = this.$('cell-digits');
    grid.replaceChildren();
    r.images.forEach((image, i) => {
      const canvas = document.createElement('canvas');
      canvas.className = 'digit';
      canvas.title = `test image ${r.indices[i]}`;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `test image ${r.indices[i]}`);
      drawImage(canvas, image, 28);
      grid.append(canvas);
    });
  }
}
