// The Runs panel: every run kept in this browser, newest first. It shows what it is given and
// says what the student asked for with CustomEvents on its section; it does not know where runs
// are stored (recorder.js) or how they train (training.js).
//
// Events (detail in braces): runs-activate {id}, runs-rename {id, name}, runs-delete {id},
// runs-clear, runs-export, runs-import {file}, runs-compare {ids}, and
// runs-experiments {action: 'start' | 'pause' (which also resumes) | 'stop' | 'continue'}.
import { percent, wall } from './format.js';
import { recordTest } from './store.js';

export class RunsPanel {
  // section: the panel's <section>, holding the markup of index.html's Runs panel.
  constructor(section) {
    this.section = section;
    this.part = (name) => section.querySelector(`[data-part="${name}"]`);
    this.rows = [];
    this.training = false;
    this.armed = ''; // the run id (or '*': all) whose Delete was clicked once, for a few seconds
    this.armedTimer = 0;
    this.redrawing = false;
    this.look = ''; // what the list shows (rowLook), to skip a redraw that changes nothing
    this.part('list').addEventListener('click', (e) => this.click(e));
    this.part('list').addEventListener('change', () => this.updateButtons());
    this.part('list').addEventListener('focusout', (e) => this.rename(e));
    this.part('list').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target.matches('input.run-name')) e.target.blur();
    });
    this.part('compare').addEventListener('click', () => this.emit('runs-compare', { ids: this.selected() }));
    this.part('export').addEventListener('click', () => this.emit('runs-export'));
    this.part('clear').addEventListener('click', () => {
      if (this.confirmed('*')) this.emit('runs-clear');
    });
    this.part('import').addEventListener('change', () => {
      const file = this.part('import').files[0];
      this.part('import').value = '';
      if (file) this.emit('runs-import', { file });
    });
    for (const action of ['start', 'pause', 'stop', 'continue']) {
      this.part(`experiments-${action}`).addEventListener('click', () => this.emit('runs-experiments', { action }));
    }
  }

  emit(type, detail = {}) {
    this.section.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // confirmed asks for a second click before something is deleted: the first click turns the
  // button into a question for a few seconds (a page-modal confirm() would stop the page). The
  // question survives the list being drawn again meanwhile.
  confirmed(key) {
    clearTimeout(this.armedTimer);
    if (this.armed === key) {
      this.armed = '';
      return true;
    }
    this.armed = key;
    this.armedTimer = setTimeout(() => {
      this.armed = '';
      this.show(this.rows, this.options);
    }, 4000);
    this.show(this.rows, this.options);
    return false;
  }

  // selected returns the ids of the runs ticked for comparison, in list order.
  selected() {
    return [...this.part('list').querySelectorAll('input.run-select:checked')].map((b) => b.closest('tr').dataset.id);
  }

  click(e) {
    const button = e.target.closest('button[data-action]');
    if (!button) return;
    const id = button.closest('tr').dataset.id;
    if (button.dataset.action === 'delete') {
      if (this.confirmed(id)) this.emit('runs-delete', { id });
    } else {
      this.emit('runs-activate', { id });
    }
  }

  // rename keeps a name when its field loses the focus. It compares with the name shown rather
  // than listening for change, because a redraw in the middle of typing gives the new field the
  // text typed so far, and a change event would not count that text as the student's.
  rename(e) {
    if (this.redrawing || !e.target.matches('input.run-name')) return;
    const id = e.target.closest('tr').dataset.id;
    const shown = this.rows.find((r) => r.id === id)?.name ?? '';
    const name = e.target.value.trim();
    if (!name) e.target.value = shown;
    else if (name !== shown) this.emit('runs-rename', { id, name });
  }

  /**
   * show lists rows, newest first: each {id, name, preset (title), record, kept, problem}, where
   * record is null for a stored record this page cannot open (problem says why), and kept is
   * false for a run that is shown but could not be stored. currentId marks the current run;
   * training disables what cannot change during a run.
   */
  show(rows, options) {
    const { currentId, training } = options;
    const ticked = new Set(this.selected());
    this.options = options;
    this.rows = rows;
    this.training = training;
    // The page asks for a redraw whenever its state changes (a download, a training step). Rows
    // that would look the same stay the same nodes, so a click that lands during one of those
    // is not lost on a button that was replaced between the press and the release.
    const look = JSON.stringify([currentId, training, this.armed, rows.map(rowLook)]);
    if (look === this.look) {
      this.updateButtons();
      return;
    }
    this.look = look;
    const body = this.part('list').tBodies[0];
    const focus = focusIn(body);
    this.redrawing = true; // removing the focused field may fire focusout: not a rename
    body.replaceChildren();
    this.redrawing = false;
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.id = row.id;
      const r = row.record;
      if (row.id === currentId) tr.classList.add('current');
      const select = document.createElement('input');
      select.type = 'checkbox';
      select.className = 'run-select';
      select.checked = ticked.has(row.id);
      select.disabled = !r;
      select.setAttribute('aria-label', `compare ${row.name}`);
      tr.insertCell().append(select);

      const name = document.createElement('input');
      name.type = 'text';
      name.className = 'run-name';
      name.value = row.name;
      name.disabled = !r;
      name.setAttribute('aria-label', 'run name');
      const nameCell = tr.insertCell();
      nameCell.append(name);
      if (row.id === currentId) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'current';
        nameCell.append(badge);
      }
      if (!r) {
        const cell = tr.insertCell();
        cell.colSpan = 4;
        cell.className = 'problem';
        cell.textContent = `Cannot open this run: ${row.problem}.`;
      } else {
        tr.insertCell().textContent = row.preset;
        const test = recordTest(r);
        const result = tr.insertCell();
        result.className = 'run-result';
        result.textContent = test ? percent(test.accuracy) : '–';
        const status = r.status === 'training' && !(training && row.id === currentId) ? 'did not finish' : r.status;
        if (status !== 'finished') {
          const note = document.createElement('span');
          note.className = `run-status status-${r.status}`;
          note.textContent = status;
          note.title = r.error || (r.status === 'training' ? 'The page closed while it trained, or it trains in another tab.' : '');
          result.append(' ', note);
        }
        tr.insertCell().textContent = r.wallMs ? wall(r.wallMs) : '–';
        const date = tr.insertCell();
        const when = new Date(r.createdAt);
        date.textContent = when.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
        date.title = when.toString();
      }
      const actions = tr.insertCell();
      actions.className = 'run-actions';
      if (r) {
        const open = document.createElement('button');
        open.type = 'button';
        open.dataset.action = 'activate';
        open.textContent = 'Make current';
        open.disabled = training || row.id === currentId || !r.weights.bytes;
        open.title = r.weights.bytes ? `Load this run’s weights, report and curve (${(r.weights.bytes / 1e6).toFixed(1)} MB)` : `Its weights were not kept: ${r.weights.problem}`;
        actions.append(open);
      }
      if (!row.kept) {
        const note = document.createElement('span');
        note.className = 'run-status status-failed';
        note.textContent = 'not saved';
        note.title = row.problem || 'The browser refused to store this run; it shows until the page closes.';
        actions.append(note);
      }
      const del = document.createElement('button');
      del.type = 'button';
      del.dataset.action = 'delete';
      del.className = 'link';
      del.textContent = this.armed === row.id ? 'Really delete?' : 'Delete';
      del.disabled = training && row.id === currentId;
      del.setAttribute('aria-label', `delete ${row.name}`);
      actions.append(del);
    }
    this.part('empty').hidden = rows.length > 0;
    this.part('list').hidden = rows.length === 0;
    focus?.restore(body);
    this.updateButtons();
  }

  updateButtons() {
    const n = this.selected().length;
    this.part('compare').disabled = n < 2;
    this.part('compare').textContent = n >= 2 ? `Compare ${n} runs` : 'Compare (select two or more)';
    this.part('export').disabled = this.rows.length === 0;
    this.part('clear').disabled = this.rows.length === 0 || this.training;
    this.part('clear').textContent = this.armed === '*' ? `Really delete all ${this.rows.length}?` : 'Delete all';
  }

  // tick selects exactly the runs ids, as the experiments do before they compare.
  tick(ids) {
    for (const box of this.part('list').querySelectorAll('input.run-select')) box.checked = ids.includes(box.closest('tr').dataset.id);
    this.updateButtons();
  }

  // message shows the outcome of the latest action: kind is '', 'ok' or 'error'.
  message(text, kind = '') {
    const el = this.part('message');
    el.textContent = text;
    el.className = `message ${kind}`;
  }

  // storageNote says how long this browser keeps the runs ('' for nothing to say).
  storageNote(text) {
    this.part('storage').textContent = text;
    this.part('storage').hidden = !text;
  }

  /**
   * showQueue shows the experiments' queue: null when there is none, else {text, running,
   * paused, remaining (the presets still to run)}: Start while none runs; Pause/Resume and Stop while one runs; Continue
   * when a stopped queue has runs left.
   */
  showQueue(q, { canTrain }) {
    this.part('queue').textContent = q ? q.text : '';
    this.part('experiments-start').disabled = !canTrain || Boolean(q && q.running);
    this.part('experiments-pause').hidden = !(q && q.running);
    this.part('experiments-pause').textContent = q && q.paused ? 'Resume' : 'Pause';
    this.part('experiments-stop').hidden = !(q && q.running);
    this.part('experiments-continue').hidden = !(q && !q.running && q.remaining.length > 0);
    this.part('experiments-continue').disabled = !canTrain;
  }
}

// rowLook is what the list shows of row: two rows with the same look draw the same.
function rowLook(row) {
  const r = row.record;
  return [row.id, row.name, row.preset, row.kept, row.problem,
    r && [r.status, recordTest(r)?.accuracy, r.wallMs, r.createdAt, r.error, r.weights.bytes, r.weights.problem]];
}

// focusIn notes the control in the list that has the focus, so that a redraw (each epoch writes
// the run again, a delete redraws the rest) neither drops a keyboard user's place nor a name
// being typed: restore gives the same control of the same row the focus back, with its text and
// caret. It returns null when the focus is elsewhere.
function focusIn(body) {
  const el = document.activeElement;
  const tr = el?.closest?.('tr');
  if (!tr || !body.contains(tr)) return null;
  const key = el.dataset.action ? `[data-action="${el.dataset.action}"]` : `.${el.className.split(' ')[0]}`;
  const typing = el.matches('input.run-name') ? { value: el.value, start: el.selectionStart, end: el.selectionEnd } : null;
  const id = tr.dataset.id;
  return {
    restore(body) {
      const row = [...body.rows].find((r) => r.dataset.id === id);
      const again = row?.querySelector(key);
      if (!again || again.disabled) return;
      if (typing) {
        again.value = typing.value;
        again.setSelectionRange(typing.start, typing.end);
      }
      again.focus({ preventScroll: true });
    },
  };
}
