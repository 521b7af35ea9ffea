// My digits: a student's own handwriting as a test set, as training data, and as files. The
// student draws on the pad and presses the digit's number (a button, or the key); the pad's
// drawing, centred as MNIST digits are (the same preprocessing as predictions: the predict call's
// input), is kept in this browser (digitstore.js) and shown in the panel (digitspanel.js). The
// digits are tested after each epoch and on demand, mixed into training by the mix-digits
// setting, and exported and imported as the IDX files MNIST comes in.
//
// It keeps state.digits, the digits a run gets (protocol.md DigitSet; training.js sends them with
// train, estimate.js counts their copies), and follows the run's epochs and the current model
// (state.model). It announces measured {accuracy, correct, count, when: 'epoch' | 'test', epoch?,
// mixDigits?} (a CustomEvent) when the accuracy on the digits is measured: the host page hears of
// it (embedding.js), without any image.
import { MyDigitsList, maxDigits } from './digitstore.js';
import { pixelsPerImage } from './trainset.js';
import { DigitsPanel } from './digitspanel.js';
import { storageAdvice } from './features.js';
import { plural } from './format.js';
import { saveFile } from './util.js';

const goalKey = 'mnist-trainer.digits-goal';
const goals = [3, 5, 10, 20];

/** maxFileBytes bounds a file read for import: the largest IDX file of maxDigits digits, gzip or not. */
const maxFileBytes = maxDigits * pixelsPerImage + 1024;

// reason is an error's message without its full stop, for a sentence that goes on.
const reason = (err) => String(err.message || err).replace(/[.!]$/, '');

// editing says whether a key pressed in el is text being typed (a setting, a run's name).
const editing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

export class MyDigits extends EventTarget {
  // inspection: the drawing pad's owner (its drawing, and clearing it).
  constructor({ state, team, inspection }) {
    super();
    Object.assign(this, { state, team, inspection });
    const section = document.querySelector('[data-panel="digits"]');
    this.section = section;
    this.panel = new DigitsPanel(section);
    this.list = new MyDigitsList();
    this.goal = readGoal();
    this.marks = new Map(); // digit id -> the prediction of the latest test
    this.tested = null; // {count, ids: Set, model}: the digits the latest result is of, and of which model
    this.sent = null; // {ids, mix}: the digits the run under way got
    this.testing = false;
    this.links = [];
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
      if (!this.canAdd || !this.inspection.hasDrawing) return; // nothing drawn: the key is the page's
      e.preventDefault();
      this.add(Number(e.key));
    };
    document.addEventListener('keydown', this.onKey);
    state.watch(['ready', 'panels'], () => {
      this.panel.needsPad(this.shows('draw') ? '' : 'This page shows no drawing pad, so digits cannot be drawn here; import them instead.');
      this.show();
    });
    state.on(['panels'], () => this.changed()); // a page without the panel gives runs none
    // The run gets the digits of state.digits when it starts: their ids map its results back.
    state.on(['training'], ({ training, digits, values }) => {
      if (training) this.sent = digits && { ids: digits.ids, mix: Number(values['mix-digits']) || 0 };
    });
    state.on(['model'], ({ model, training }) => {
      if (!this.tested) return;
      if (!training && this.tested.fromRun) this.tested.model = model; // the run's last epoch tested the model it leaves
      this.tested.fromRun = false;
      if (this.tested.model !== model) this.panel.resultStale('Another model is current now: press “Test” to test it on My digits.');
    });
    team.addEventListener('epoch', ({ detail }) => this.epoch(detail));
    this.show();
    this.open();
  }

  // open reads the digits kept in this browser, and says how long the browser keeps them.
  async open() {
    const [problem, advice] = await Promise.all([this.list.open(), storageAdvice()]);
    if (problem) this.panel.message(problem, 'error');
    this.panel.storageNote(`Like the runs, your digits stay in this browser and are sent nowhere; only Export makes files of them.${advice ? ` ${advice}` : ''}`);
    this.show();
    this.changed();
  }

  // disconnect stops listening to the keyboard, for a page that removes the panel.
  disconnect() {
    document.removeEventListener('keydown', this.onKey);
  }

  // shows says whether the page shows panel (a course page's panels= may leave it out).
  shows(panel) {
    return !this.state.panels || this.state.panels.has(panel);
  }

  /** count is the number of digits. */
  get count() {
    return this.list.count;
  }

  // canAdd says whether a drawing can be added: the trainer runs, and the page shows the pad and the panel.
  get canAdd() {
    return this.state.ready && this.shows('draw') && this.shows('digits');
  }

  show() {
    this.panel.show({ rows: this.list.rows, goal: this.goal, marks: this.marks });
    this.panel.enable({ canAdd: this.canAdd, busy: this.testing || !this.state.ready });
  }

  // changed follows a change of the digits: state.digits, the set a run gets (none where the page
  // leaves the panel out: a student would not see what was done with them), and a result of fewer
  // digits than there are now says so.
  changed() {
    const set = this.shows('digits') ? this.list.set() : null;
    this.state.set({ digits: set });
    if (this.tested && (this.tested.count !== this.count || this.list.rows.some((r) => !this.tested.ids.has(r.id)))) {
      this.panel.resultStale(`That was ${plural(this.tested.count, 'digit')}; you have ${this.count} now: press “Test” for all of them.`);
    }
  }

  // add keeps the pad's drawing as a digit label: the image the network sees, which predict
  // answers (the same centring as every prediction), and says what the network reads in it.
  async add(label) {
    const drawing = this.canAdd && this.inspection.hasDrawing && this.inspection.drawing();
    if (!drawing) {
      this.panel.message(`Draw a ${label} on the pad first, then press ${label}.`, 'error');
      return;
    }
    let r;
    try {
      r = await this.team.predict(drawing);
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
    this.inspection.clearDrawing();
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

  // epoch shows an epoch's evaluation of the digits the run got, if it has one.
  epoch(m) {
    if (!m.digits || !this.sent) return;
    const mix = this.sent.mix;
    const note = mix ? `They were mixed into training (mix-digits ${mix}): this says how well the network learnt them, not how it reads new ones.` : '';
    this.result(m.digits, this.sent.ids, { when: `After epoch ${m.epoch} of ${m.epochs}`, note }, { when: 'epoch', epoch: m.epoch, mixDigits: mix });
    this.tested.fromRun = true; // the run ends with this model: state.model's next change is to it
  }

  // test tests the current model on every digit, on demand.
  async test() {
    const s = this.list.set();
    if (!s || this.testing) return;
    this.testing = true;
    this.show();
    this.panel.message(`Testing the current model on ${plural(s.ids.length, 'digit')}…`);
    try {
      const r = await this.team.evaluateDigits(s);
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
    this.tested = { count: ids.length, ids: new Set(ids), model: this.state.model, fromRun: false };
    this.panel.showResult(r, { when, mnist: this.state.report?.test?.accuracy ?? null, note });
    this.show();
    this.changed();
    this.dispatchEvent(new CustomEvent('measured', { detail: { accuracy: r.accuracy, correct: r.correct, count: r.images, ...event } }));
  }

  // exportFiles saves the digits as the two gzipped IDX files, and links them too: a browser may
  // ask before a page saves a second file.
  async exportFiles() {
    const s = this.list.set();
    if (!s) return;
    try {
      const { files } = await this.team.exportDigits(s);
      this.links.forEach((l) => URL.revokeObjectURL(l.url));
      this.links = files.map((f) => {
        const blob = new Blob([f.data], { type: 'application/gzip' });
        saveFile(blob, f.name);
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
      const r = await this.team.importDigits(read);
      const digits = [];
      for (let i = 0; i < r.count; i++) digits.push({ label: r.labels[i], pixels: r.images.slice(i * pixelsPerImage, (i + 1) * pixelsPerImage) });
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
