// The Model and Weights panels. The Model panel shows a configuration's summary (protocol.md,
// Summary); the Weights panel says weights-export and weights-import {file} as CustomEvents and
// shows what came of them. Neither talks to the workers.
import { headerCell } from './table.js';

/** ModelPanel lists the trainable parameters of each layer of the configured network. */
export class ModelPanel {
  constructor(section) {
    this.table = section.querySelector('#summary');
  }

  show(summary) {
    const body = this.table.tBodies[0];
    body.replaceChildren();
    for (const l of summary.layers) {
      const tr = body.insertRow();
      tr.append(headerCell(l.name, 'row'));
      tr.insertCell().textContent = l.shapes;
      tr.insertCell().textContent = l.params.toLocaleString('en');
    }
    const foot = this.table.tFoot;
    foot.replaceChildren();
    const tr = foot.insertRow();
    tr.append(headerCell('total', 'row'), document.createElement('td'));
    tr.insertCell().textContent = summary.total.toLocaleString('en');
  }
}

/** WeightsPanel exports the current model as a safetensors file, and imports one. */
export class WeightsPanel {
  constructor(section) {
    this.section = section;
    this.$ = (id) => section.querySelector(`#${id}`);
    this.$('export').addEventListener('click', () => this.emit('weights-export'));
    this.$('import').addEventListener('change', () => {
      const file = this.$('import').files[0];
      this.$('import').value = ''; // choosing the same file again fires change again
      if (file) this.emit('weights-import', { file });
    });
  }

  emit(type, detail = {}) {
    this.section.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));
  }

  // enable allows export once the trainer runs, and import when it does not train.
  enable(ready, training) {
    this.$('export').disabled = !ready;
    this.$('import').disabled = !ready || training;
    this.$('import-label').classList.toggle('disabled', !ready || training);
  }

  // message shows the outcome of the latest export or import: kind is '', 'ok' or 'error'.
  message(text, kind = '') {
    this.$('weights-message').textContent = text;
    this.$('weights-message').className = `message ${kind}`;
  }
}
