// My digits: a student's own handwriting as a test set, as training data, and as files. The
// student draws on the pad and presses the digit's number (a button, or the key); the pad's
// drawing, centred as MNIST digits are (the same preprocessing as predictions: the predict call's
// input), is kept in this browser (digitstore.js) and shown in the panel (digitspanel.js). The
// digits are tested after each epoch (train's digits option) and on demand, mixed into training
// by the mix-digits setting, and exported and imported as the IDX files MNIST comes in.
//
// The feature makes its calls through worker, which alone names them (protocol.md): predict,
// evaluateDigits, exportDigits and importDigits. It announces on its section digits-measured
// {accuracy, correct, count, when: 'epoch' | 'test', epoch?, mixDigits} when the accuracy on the
// digits is measured (the host page hears of it, without any image), and digits-changed {count}.
import { MyDigitsList, maxDigits, pixelsPerDigit } from './digitstore.js';
import { DigitsPanel } from './digitspanel.js';
import { plural } from './format.js';

const goalKey = 'mnist-trainer.digits-goal';
const goals = [3, 5, 10, 20];

/** maxFileBytes bounds a file read for import: the largest IDX file of maxDigits digits, gzip or not. */
const maxFileBytes = maxDigits * pixelsPerDigit + 1024;

// reason is an error's message without its full stop, for a sentence that goes on.
const reason = (err) => String(err.message || err).replace(/[.!]$/, '');

// editing says whether a key pressed in el is text being typed (a setting, a run's name).
const editing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

export class MyDigits {
  /**
   * section: the My digits <section>. worker: the trainer's calls, {predict(drawing),
   * evaluate(set), exportFiles(set), importFiles(files)}, each a Promise of the op's answer.
   * page: what the feature needs of the page, {shown() (whether the page shows the panel: a
   * course page may leave it out, and then the digits take no part), drawing() (the pad's drawing,
   * or null when it has no ink or is not shown), clearPad(), saveFile(blob, name), mnistAccuracy()
   * (the test accuracy shown, or null)}.
   */
  constructor(section, worker, page) {
    this.section = section;
    this.worker = worker;
    this.page = page;
    this.panel = new DigitsPanel(section);
    this.list = new MyDigitsList();
    this.goal = readGoal();
    this.marks = new Map(); // digit id -> the prediction of the latest test
    this.tested = null; // {count, ids: Set}: the digits the latest result is of
    this.sent = null; // {ids, mix}: the digits the run under way got
    this.testing = false;
    this.links = [];
    this.ready = false;
    section.addEventListener('digits-add', (e) => this.add(e.detail.label));
    section.addEventListener('digits-delete', (e) => this.delete(e.detail.id));
    section.addEventListener('digits-clear', () => this.clear());
    section.addEventListener('digits-test', () => this.test());
    section.addEventListener('digits-export', () => this.exportFiles());
    section.addEventListener('digits-import', (e) => this.importFiles(e.detail.files));
    section.addEventListener('digits-goal', (e) => {
      this.goal = e.detail.goal;
      try {
        localStorage.setItem(goalKey, String(this.goal));
      } catch {} // no storage: the goal lasts as long as the page
      this.show();
    });
    this.onKey = (e) => {
      if (e.repeat || e.ctrlKey || e.metaKey || e.altKey || !/^[0-9]$/.test(e.key) || editing(e.target)) return;
      if (!this.ready || !this.page.shown() || !this.page.drawing()) return; // nothing drawn: the key is the page's
      e.preventDefault();
      this.add(Number(e.key));
    };
    document.addEventListener('keydown', this.onKey);
    this.show();
  }

  // open reads the digits kept in this browser; advice says how long the browser keeps what the
  // page stores (features.js).
  async open(advice) {
    const problem = await this.list.open();
    if (problem) this.panel.message(problem, 'error');
    this.panel.storageNote(`Like the runs, your digits stay in this browser and are sent nowhere; only Export makes files of them.${advice ? ` ${advice}` : ''}`);
    this.show();
    this.changed();
  }

  // disconnect stops listening to the keyboard, for a page that removes the panel.
  disconnect() {
    document.removeEventListener('keydown', this.onKey);
  }

  /** count is the number of digits. */
  get count() {
    return this.list.count;
  }

  /** trainingCount is the number of digits a run gets: none where the page leaves the panel out. */
  get trainingCount() {
    return this.page.shown() ? this.count : 0;
  }

  // setReady says whether the trainer runs (drawings can be read) and whether the pad is shown.
  setReady(ready, padShown) {
    this.ready = ready;
    this.padShown = padShown;
    this.panel.needsPad(padShown ? '' : 'This page shows no drawing pad, so digits cannot be drawn here; import them instead.');
    this.panel.enable({ canAdd: ready && padShown, busy: this.testing || !ready });
  }

  show() {
    this.panel.show({ rows: this.list.rows, goal: this.goal, marks: this.marks });
    this.panel.enable({ canAdd: this.ready && this.padShown !== false, busy: this.testing || !this.ready });
  }

  changed() {
    this.section.dispatchEvent(new CustomEvent('digits-changed', { detail: { count: this.count }, bubbles: true }));
    if (this.tested && (this.tested.count !== this.count || this.list.rows.some((r) => !this.tested.ids.has(r.id)))) {
      this.panel.resultStale(`That was ${plural(this.tested.count, 'digit')}; you have ${this.count} now: press “Test” for all of them.`);
    }
  }

  // add keeps the pad's drawing as a digit label: the image the network sees, which predict
  // answers (the same centring as every prediction), and says what the network reads in it.
  async add(label) {
    const drawing = this.ready && this.page.drawing();
    if (!drawing) {
      this.panel.message(`Draw a ${label} on the pad first, then press ${label}.`, 'error');
      return;
    }
    let r;
    try {
      r = await this.worker.predict(drawing);
    } catch (err) {
      this.panel.message(`Could not add it: ${reason(err)}.`, 'error');
      return;
    }
    const pixels = Uint8Array.from(r.input);
    let added;
    try {
      added = await this.list.add([{ label, pixels }], 'drawn');
    } catch (err) {
      this.panel.message(`Could not add it: ${reason(err)}.`, 'error');
      return;
    }
    this.page.clearPad();
    const read = r.probabilities.indexOf(Math.max(...r.probabilities));
    const n = this.list.counts()[label];
    const reading = read === label ? 'The network reads it right.' : `The network reads it as a ${read}.`;
    this.panel.message(added.problem ? `Added your ${label}, but it is ${added.problem}: it stays until the page closes.`
      : `Added your ${label} (${n} of ${this.goal}). ${reading}`, added.problem ? 'error' : 'ok');
    this.show();
    this.changed();
  }

  async delete(id) {
    const row = this.list.rows.find((r) => r.id === id);
    try {
      await this.list.delete(id);
      this.marks.delete(id);
      this.panel.message(`Deleted a ${row?.label}.`, 'ok');
    } catch (err) {
      this.panel.message(`Could not delete it: ${reason(err)}.`, 'error');
    }
    this.show();
    this.changed();
  }

  async clear() {
    const n = this.count;
    try {
      await this.list.clear();
      this.marks.clear();
      this.tested = null;
      this.panel.clearResult('Not tested yet.');
      this.panel.message(`Deleted all ${plural(n, 'digit')}.`, 'ok');
    } catch (err) {
      this.panel.message(`Could not delete them: ${reason(err)}.`, 'error');
    }
    this.show();
    this.changed();
  }

  // current is the digits as the worker's calls take them, {images, labels}, and their ids.
  current() {
    const set = this.list.set();
    if (!set) return null;
    const { ids, ...digits } = set;
    return { ids, digits };
  }

  /**
   * trainOptions are train's options for My digits (protocol.md): {digits} to test after each
   * epoch and mix in as values['mix-digits'] says; nothing when there are none, or when the page
   * leaves the panel out (a student would not see what was done with them).
   */
  trainOptions(values) {
    const s = this.page.shown() ? this.current() : null;
    this.sent = s && { ids: s.ids, mix: Number(values['mix-digits']) || 0 };
    return s ? { digits: s.digits } : {};
  }

  // epoch shows an epoch's evaluation of the digits the run got, if it has one.
  epoch(m) {
    if (!m.digits || !this.sent) return;
    const mix = this.sent.mix;
    const note = mix ? `They were mixed into training (mix-digits ${mix}): this says how well the network learnt them, not how it reads new ones.` : '';
    this.result(m.digits, this.sent.ids, { when: `After epoch ${m.epoch} of ${m.epochs}`, note }, { when: 'epoch', epoch: m.epoch, mixDigits: mix });
  }

  // test tests the current model on every digit, on demand.
  async test() {
    const s = this.current();
    if (!s || this.testing) return;
    this.testing = true;
    this.show();
    this.panel.message(`Testing the current model on ${plural(s.ids.length, 'digit')}…`);
    try {
      const r = await this.worker.evaluate(s.digits);
      this.result(r, s.ids, { when: 'Tested now' }, { when: 'test' });
      this.panel.message('');
    } catch (err) {
      this.panel.message(`Could not test them: ${reason(err)}.`, 'error');
    } finally {
      this.testing = false;
      this.show();
    }
  }

  // result shows an evaluation r of the digits ids, and announces it.
  result(r, ids, { when, note = '' }, event) {
    this.marks.clear();
    ids.forEach((id, i) => this.marks.set(id, r.predictions[i]));
    this.tested = { count: ids.length, ids: new Set(ids) };
    this.panel.showResult(r, { when, mnist: this.page.mnistAccuracy(), note });
    this.show();
    this.changed();
    this.section.dispatchEvent(new CustomEvent('digits-measured', {
      bubbles: true,
      detail: { accuracy: r.accuracy, correct: r.correct, count: r.images, ...event },
    }));
  }

  // modelChanged says that the marks are of another model than the current one.
  modelChanged(why) {
    if (this.tested) this.panel.resultStale(`${why}: press “Test” to test it on My digits.`);
  }

  // exportFiles saves the digits as the two gzipped IDX files, and links them too: a browser may
  // ask before a page saves a second file.
  async exportFiles() {
    const s = this.current();
    if (!s) return;
    try {
      const { files } = await this.worker.exportFiles(s.digits);
      this.links.forEach((l) => URL.revokeObjectURL(l.url));
      this.links = files.map((f) => {
        const blob = new Blob([f.data], { type: 'application/gzip' });
        this.page.saveFile(blob, f.name);
        return { name: f.name, url: URL.createObjectURL(blob) };
      });
      this.panel.links(this.links);
      this.panel.message(`Exported ${plural(s.ids.length, 'digit')} as ${files.map((f) => f.name).join(' and ')}, the IDX files MNIST comes in (the notebook and the native trainer's -my-digits read them).`, 'ok');
    } catch (err) {
      this.panel.message(`Could not export them: ${reason(err)}.`, 'error');
    }
  }

  // importFiles adds the digits of an images file and its labels file; a bad pair changes nothing.
  async importFiles(files) {
    const names = files.map((f) => f.name).join(' and ');
    try {
      const big = files.find((f) => f.size > maxFileBytes);
      if (big) throw new Error(`${big.name} is ${(big.size / 1e6).toFixed(0)} MB, more than a set of digits can be (at most ${maxDigits.toLocaleString('en')} digits, ${(maxFileBytes / 1e6).toFixed(0)} MB)`);
      const read = await Promise.all(files.map(async (f) => ({ name: f.name, data: new Uint8Array(await f.arrayBuffer()) })));
      const r = await this.worker.importFiles(read);
      const digits = [];
      for (let i = 0; i < r.count; i++) digits.push({ label: r.labels[i], pixels: r.images.slice(i * pixelsPerDigit, (i + 1) * pixelsPerDigit) });
      const added = await this.list.add(digits, files.map((f) => f.name).join(', '));
      const counts = new Array(10).fill(0);
      for (const d of digits) counts[d.label]++;
      this.panel.message(`Imported ${plural(r.count, 'digit')} from ${names} (${counts.map((c, d) => `${c} × ${d}`).join(', ')}).` +
        (added.problem ? ` But they are ${added.problem}: they stay until the page closes.` : ''), added.problem ? 'error' : 'ok');
    } catch (err) {
      this.panel.message(`Could not import ${names}: ${reason(err)}. My digits are unchanged.`, 'error');
    }
    this.show();
    this.changed();
  }

  // view is what the panel shows, for the browser tests.
  view() {
    return {
      count: this.count,
      counts: this.list.counts(),
      rows: this.list.rows.map((r) => ({ id: r.id, label: r.label, kept: r.kept, mark: this.marks.get(r.id) ?? null })),
      tested: this.tested ? this.tested.count : 0,
    };
  }
}

// readGoal is the balanced set the student aims for: kept in localStorage, 5 of each at first.
function readGoal() {
  try {
    const g = Number(localStorage.getItem(goalKey));
    return goals.includes(g) ? g : 5;
  } catch {
    return 5;
  }
}
