// The Compare panel: several runs side by side, as the course notebook compares its three
// networks. Their loss curves on one chart, a table of their results, and the first kernels and
// feature maps of each conv layer, one row per run, for the same image.
//
// It shows what it is given; it asks for the figures of another image with a compare-source
// CustomEvent {source: {index} | 'drawing'}, and says compare-close when the student closes it.
import { CompareChart, runColors } from './chart.js';
import { drawImage, layerFigure } from './images.js';
import { recordTest } from './store.js';
import { recordDigits } from './digitstore.js';
import { columnHeads } from './table.js';
import { rate, wall } from './format.js';

const shown = 3; // kernels and feature maps per conv layer, as in the notebook's figures

export class ComparePanel {
  constructor(section) {
    this.section = section;
    this.part = (name) => section.querySelector(`[data-part="${name}"]`);
    this.chart = new CompareChart(this.part('chart'));
    this.runs = [];
    this.part('log').addEventListener('change', () => this.chart.setLog(this.part('log').checked));
    this.part('close').addEventListener('click', () => {
      section.hidden = true;
      this.emit('compare-close');
    });
    const source = () => this.emit('compare-source', { source: this.source() });
    this.part('index').addEventListener('change', () => {
      this.part('index').value = String(((Math.trunc(Number(this.part('index').value)) || 0) + 10000) % 10000);
      this.section.querySelector('input[name="compare-source"][value="test"]').checked = true;
      source();
    });
    for (const radio of section.querySelectorAll('input[name="compare-source"]')) radio.addEventListener('change', source);
  }

  emit(type, detail = {}) {
    this.section.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // source is the image whose feature maps are compared: a test image, or the drawing.
  source() {
    const drawing = this.section.querySelector('input[name="compare-source"]:checked').value === 'drawing';
    return drawing ? 'drawing' : { index: Number(this.part('index').value) || 0 };
  }

  // show compares records: the chart and the table; the figures follow with showFigures.
  show(records) {
    this.runs = records.map((r, i) => ({ record: r, color: runColors[i % runColors.length] }));
    this.section.hidden = false;
    this.chart.show(this.runs.map(({ record: r, color }) => ({ name: r.name, color, curve: r.curve, stepsPerEpoch: r.stepsPerEpoch })));
    this.showTable();
    this.part('figures').replaceChildren();
  }

  showTable() {
    const table = this.part('table');
    columnHeads(table, ['run', 'test accuracy', 'My digits', 'mixed in', 'macro F1', 'weighted F1', ...Array.from({ length: 10 }, (_, d) => `F1 ${d}`), 'parameters', 'images/s', 'wall time']);
    const body = table.tBodies[0];
    body.replaceChildren();
    const f2 = (x) => (x == null ? '–' : x.toFixed(3));
    const tests = this.runs.map(({ record }) => recordTest(record));
    // The best value of each column is marked, as a reader of the table looks for it first.
    const best = (values, high = true) => {
      const known = values.filter((v) => v != null);
      return known.length > 1 ? (high ? Math.max(...known) : Math.min(...known)) : null;
    };
    const columns = [
      tests.map((t) => t?.accuracy), tests.map((t) => t?.report.macroAvg.f1), tests.map((t) => t?.report.weightedAvg.f1),
      ...Array.from({ length: 10 }, (_, d) => tests.map((t) => t?.report.classes[d].f1)),
    ];
    const bests = columns.map((c) => best(c));
    this.runs.forEach(({ record: r, color }, i) => {
      const tr = body.insertRow();
      const th = runLabel('th', color, r.name);
      th.scope = 'row';
      tr.append(th);
      columns.forEach((c, k) => {
        const td = tr.insertCell();
        td.textContent = k === 0 && c[i] != null ? `${(100 * c[i]).toFixed(2)}%` : f2(c[i]);
        if (c[i] != null && c[i] === bests[k]) td.classList.add('best');
        if (k === 0) myDigitsCells(tr, r, i === 0 ? null : this.runs[0].record); // beside MNIST's accuracy
      });
      tr.insertCell().textContent = r.params ? r.params.toLocaleString('en') : '–';
      tr.insertCell().textContent = r.imagesPerSec ? rate(r.imagesPerSec) : '–';
      tr.insertCell().textContent = r.wallMs ? wall(r.wallMs) : '–';
    });
    const note = this.runs.some(({ record }) => !recordTest(record)) ? 'A run stopped before its first epoch ended has no test results (–).' : '';
    this.part('table-note').textContent = note;
  }

  /**
   * showFigures shows one row per run: figures[i] is run i's {kernels, features} as the
   * inspect request answers them, or {problem} when they cannot be had (no weights kept).
   */
  showFigures(figures) {
    const box = this.part('figures');
    box.replaceChildren();
    const input = figures.find((f) => f.features)?.features;
    if (input) {
      drawImage(this.part('input'), input.input, 28);
      this.part('input-caption').textContent = input.index >= 0 ? `test image ${input.index}: a ${input.label}` : 'your drawing';
    }
    figures.forEach((f, i) => {
      const { record: r, color } = this.runs[i];
      const row = document.createElement('div');
      row.className = 'compare-row';
      const name = runLabel('p', color, r.name);
      name.className = 'compare-name';
      row.append(name);
      if (f.problem) {
        const p = document.createElement('p');
        p.className = 'caption';
        p.textContent = f.problem;
        row.append(p);
      } else {
        const convMaps = f.features.layers.filter((l) => l.layer.startsWith('conv'));
        for (const k of f.kernels) {
          row.append(layerFigure(`${k.layer} kernels (${k.size}×${k.size})`, k.images.slice(0, shown), k.size, shown, Math.max(3, Math.round(18 / k.size))));
          const maps = convMaps.find((l) => l.layer === k.layer);
          if (maps) row.append(layerFigure(`${maps.layer} maps (${maps.side}×${maps.side})`, maps.maps.slice(0, shown), maps.side, shown, Math.max(2, Math.round(28 / maps.side))));
        }
      }
      box.append(row);
    });
  }

  // figuresMessage says why the figures are not there (yet).
  figuresMessage(text) {
    this.part('figures-message').textContent = text;
  }

  // view is what the panel shows, for the browser tests: the chart's series (each one's name and
  // points), and how many rows the table and the figures have.
  view() {
    return { series: this.chart.data, rows: this.part('table').tBodies[0].rows.length, figures: this.part('figures').children.length };
  }
}

// runLabel is a tag element naming a run after a swatch of its colour, as in the chart's legend.
function runLabel(tag, color, name) {
  const el = document.createElement(tag);
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = color;
  el.append(swatch, name);
  return el;
}

// myDigitsCells adds a run's accuracy on My digits (with their number) and how many copies of
// each it mixed into training. The accuracy of runs tested on other digits than the first run's
// is not comparable: it is marked.
function myDigitsCells(tr, r, first) {
  const d = recordDigits(r);
  const cell = tr.insertCell();
  cell.textContent = d ? `${(100 * d.accuracy).toFixed(1)}% of ${d.images}` : '–';
  const firstDigits = first && recordDigits(first);
  if (d && firstDigits && firstDigits.images !== d.images) {
    cell.classList.add('other-digits');
    cell.title = `tested on ${d.images} digits, the first run on ${firstDigits.images}: not the same set`;
  }
  const mix = Number(r.settings['mix-digits']) || 0;
  tr.insertCell().textContent = mix && d ? `×${mix}` : mix ? `×${mix} (no digits)` : 'no';
}
