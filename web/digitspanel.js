// The My digits panel: buttons that add the pad's drawing as a digit, the goal of a balanced set
// and the progress toward it, the accuracy on the digits beside MNIST's with their own confusion
// matrix, and a gallery by digit, each marked with what the network read. It shows what it is
// given and says what the student asked for with CustomEvents on its section; it does not know
// where the digits are kept or how they are tested (mydigits.js does).
//
// Events (detail in braces): digits-add {label}, digits-delete {id}, digits-clear, digits-test,
// digits-export, digits-import {files}, digits-goal {goal}.
import { percent, plural } from './format.js';
import { drawImage } from './images.js';
import { matrixTable } from './table.js';

/** shownPerDigit is how many digits of each label the gallery draws: a class set has hundreds. */
const shownPerDigit = 40;

export class DigitsPanel {
  // section: the panel's <section>, holding the markup of index.html's My digits panel.
  constructor(section) {
    this.section = section;
    this.part = (name) => section.querySelector(`[data-part="${name}"]`);
    this.armed = false; // Delete all was clicked once, for a few seconds
    this.armedTimer = 0;
    this.highlight = null; // {label, predicted}: the confusion cell whose digits stand out
    this.state = { rows: [], goal: 5, marks: new Map() };
    const labels = this.part('labels');
    for (let d = 0; d < 10; d++) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.label = d;
      b.textContent = d;
      b.setAttribute('aria-label', `Add the drawing as a ${d}`);
      b.setAttribute('aria-keyshortcuts', String(d));
      labels.append(b);
    }
    labels.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-label]');
      if (b) this.emit('digits-add', { label: Number(b.dataset.label) });
    });
    this.part('gallery').addEventListener('click', (e) => {
      const b = e.target.closest('button.delete');
      if (b) this.emit('digits-delete', { id: b.closest('[data-id]').dataset.id });
    });
    this.part('goal').addEventListener('change', () => this.emit('digits-goal', { goal: Number(this.part('goal').value) }));
    this.part('test').addEventListener('click', () => this.emit('digits-test'));
    this.part('export').addEventListener('click', () => this.emit('digits-export'));
    this.part('import').addEventListener('change', () => {
      const files = [...this.part('import').files];
      this.part('import').value = '';
      if (files.length) this.emit('digits-import', { files });
    });
    this.part('clear').addEventListener('click', () => {
      clearTimeout(this.armedTimer);
      if (this.armed) {
        this.armed = false;
        this.emit('digits-clear');
      } else {
        this.armed = true;
        this.armedTimer = setTimeout(() => {
          this.armed = false;
          this.updateButtons();
        }, 4000);
      }
      this.updateButtons();
    });
    this.part('matrix').addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      const cell = { label: Number(b.dataset.label), predicted: Number(b.dataset.predicted) };
      const same = this.highlight && this.highlight.label === cell.label && this.highlight.predicted === cell.predicted;
      this.highlight = same ? null : cell;
      this.show(this.state);
    });
  }

  emit(type, detail = {}) {
    this.section.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /**
   * show shows the digits: rows {id, label, pixels, kept, problem}, oldest first; goal, the
   * digits of each label a balanced set has; marks, the latest prediction of each digit, by id.
   */
  show(state) {
    this.state = state;
    const { rows, goal, marks } = state;
    const counts = new Array(10).fill(0);
    for (const r of rows) counts[r.label]++;
    this.part('goal').value = String(goal);
    const done = counts.reduce((sum, c) => sum + Math.min(c, goal), 0);
    this.part('progress').max = 10 * goal;
    this.part('progress').value = done;
    this.part('progress-text').textContent = `${done} of ${10 * goal}`;
    const fewest = counts.indexOf(Math.min(...counts));
    this.part('next').textContent = done === 10 * goal
      ? `A balanced set: ${goal} of each digit. Test the network on them, or train with mix-digits to teach it your hand.`
      : `Next: draw a ${fewest} (you have ${counts[fewest]} of ${goal}).`;

    const gallery = this.part('gallery');
    gallery.replaceChildren();
    for (let d = 0; d < 10 && rows.length; d++) { // none yet: the caption says so, without ten empty rows
      const mine = rows.filter((r) => r.label === d);
      const row = document.createElement('div');
      row.className = 'digit-row';
      row.dataset.label = d;
      const head = document.createElement('p');
      head.className = 'digit-row-head';
      head.innerHTML = '<span class="digit-label"></span> <span class="count"></span>';
      head.firstChild.textContent = d;
      head.lastChild.textContent = `${counts[d]}/${goal}`;
      if (counts[d] >= goal) head.classList.add('complete');
      row.append(head);
      const list = document.createElement('div');
      list.className = 'digit-row-list';
      for (const r of mine.slice(-shownPerDigit)) list.append(this.figure(r, marks.get(r.id)));
      if (mine.length > shownPerDigit) {
        const more = document.createElement('span');
        more.className = 'caption';
        more.textContent = `and ${mine.length - shownPerDigit} more`;
        list.prepend(more);
      }
      row.append(list);
      gallery.append(row);
    }
    this.part('empty').hidden = rows.length > 0;
    this.updateButtons();
  }

  // figure is one digit of the gallery, marked with the network's reading of it (predicted, or
  // undefined when it was not tested yet), with a button to delete it.
  figure(r, predicted) {
    const fig = document.createElement('figure');
    fig.className = 'my-digit';
    fig.dataset.id = r.id;
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    drawImage(canvas, r.pixels, 28);
    const mark = document.createElement('figcaption');
    mark.className = 'mark';
    let reading = 'not tested yet';
    if (predicted === undefined) {
      fig.classList.add('untested');
    } else if (predicted === r.label) {
      mark.textContent = '✓';
      reading = `read as a ${predicted}`;
    } else {
      fig.classList.add('misread');
      mark.textContent = `→${predicted}`;
      reading = `misread as a ${predicted}`;
    }
    const h = this.highlight;
    if (h && h.label === r.label && h.predicted === predicted) fig.classList.add('highlight');
    if (!r.kept) fig.classList.add('unkept');
    canvas.setAttribute('aria-label', `your ${r.label}, ${reading}${r.kept ? '' : `; ${r.problem}`}`);
    fig.title = `${r.source === 'drawn' ? 'drawn here' : `imported from ${r.source}`}; ${reading}${r.kept ? '' : `; ${r.problem}`}`;
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'delete';
    del.textContent = '×';
    del.setAttribute('aria-label', `Delete this ${r.label}`);
    fig.append(canvas, mark, del);
    return fig;
  }

  updateButtons() {
    const n = this.state.rows.length;
    this.part('test').disabled = n === 0 || Boolean(this.busy);
    this.part('export').disabled = n === 0;
    this.part('clear').disabled = n === 0;
    this.part('clear').textContent = this.armed ? `Really delete all ${n}?` : 'Delete all';
  }

  // enable says whether a drawing can be added (the pad is on the page and the trainer runs),
  // and whether a test is under way.
  enable({ canAdd, busy }) {
    this.busy = busy;
    for (const b of this.part('labels').querySelectorAll('button')) b.disabled = !canAdd;
    this.updateButtons();
  }

  // needsPad says, when the course page leaves the pad out, how digits still come in.
  needsPad(text) {
    this.part('needs-pad').textContent = text;
    this.part('needs-pad').hidden = !text;
  }

  /**
   * showResult shows an evaluation of the digits (evaluateDigits' answer, or an epoch's digits):
   * the accuracy, beside MNIST's test accuracy (mnist, or null), and their confusion matrix.
   * when says when it was measured, note anything the student should know about it.
   */
  showResult(r, { when, mnist, note = '' }) {
    const beside = mnist == null ? '' : `, beside ${percent(mnist)} on MNIST’s test images`;
    this.part('result').textContent =
      `${when}: ${percent(r.accuracy)} of My digits read right (${r.correct} of ${r.images})${beside}.${note ? ` ${note}` : ''}`;
    this.part('result').classList.toggle('stale', false);
    this.showMatrix(r.confusion);
  }

  // resultStale says the result shown is of fewer digits, or another model, than there are now.
  resultStale(text) {
    if (this.part('matrix').hidden) {
      this.part('result').textContent = text;
      return;
    }
    this.part('result').classList.add('stale');
    this.part('stale').textContent = text;
  }

  clearResult(text) {
    this.part('result').textContent = text;
    this.part('stale').textContent = '';
    this.part('matrix').hidden = true;
  }

  // showMatrix draws the digits' confusion matrix: a cell's digits stand out in the gallery when
  // it is pressed.
  showMatrix(matrix) {
    this.part('stale').textContent = '';
    const table = this.part('matrix');
    matrixTable(table, 'your digit, read as', matrix, (td, count, t, p) => {
      if (!count) return;
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = count;
      b.dataset.label = t;
      b.dataset.predicted = p;
      b.className = t === p ? 'right' : 'wrong';
      b.setAttribute('aria-label', `${plural(count, `your ${t}`)} read as ${p}: show them`);
      td.append(b);
    });
    table.hidden = false;
  }

  // message shows the outcome of the latest action: kind is '', 'ok' or 'error'.
  message(text, kind = '') {
    const el = this.part('message');
    el.textContent = text;
    el.className = `message ${kind}`;
  }

  // links shows download links for exported files [{name, url}], in case the browser kept one back.
  links(files) {
    const box = this.part('links');
    box.replaceChildren();
    for (const f of files) {
      const a = document.createElement('a');
      a.href = f.url;
      a.download = f.name;
      a.textContent = f.name;
      box.append(a, ' ');
    }
    box.hidden = !files.length;
  }

  // storageNote says how long this browser keeps the digits ('' for nothing to say).
  storageNote(text) {
    this.part('storage').textContent = text;
    this.part('storage').hidden = !text;
  }
}
