// The runs of this browser: each one recorded while it trains (settings, loss curve, each
// epoch's evaluation, speed, wall time, workers, kernels) and its weights once it ends, kept in
// IndexedDB (store.js). A run the browser refuses to store stays listed until the page closes,
// with the reason; nothing is dropped silently.
import { RunStore, checkRecord, recordFormat } from './store.js';

// myDigitsResult is what a run keeps of an epoch's test on My digits: their number and the
// accuracy and matrix, not which digit was read how (the digits may change after the run).
const myDigitsResult = (d) => d ? { images: d.images, correct: d.correct, accuracy: d.accuracy, loss: d.loss, confusion: d.confusion } : null;

/** exportKind marks a file of exported runs (Runs.export). */
const exportKind = 'mnist-trainer runs';

/** maxImportBytes bounds a runs file read into memory: 100 runs of the largest networks. */
export const maxImportBytes = 1 << 30;

// Base64 of the weights files in an export; Uint8Array.toBase64 where the browser has it.
function toBase64(bytes) {
  if (bytes.toBase64) return bytes.toBase64();
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
function fromBase64(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * Recorder holds the list the Runs panel shows: rows {id, name, preset, record, kept, problem},
 * newest first. record is null for a stored record this page cannot open; kept is false while
 * the record is not in the store (problem says why). It says 'change' after every change.
 */
export class Recorder extends EventTarget {
  constructor(presetTitle) {
    super();
    this.presetTitle = presetTitle; // preset name -> title
    this.store = new RunStore();
    this.rows = [];
    this.weights = new Map(); // id -> bytes of runs whose weights the store refused: kept in memory
  }

  // open reads the stored runs. It resolves with '' or with why runs cannot be kept.
  async open() {
    try {
      await this.store.open();
      const stored = await this.store.list();
      this.rows = stored.map((raw) => {
        try {
          const record = checkRecord(raw);
          return this.row(record, true, '');
        } catch (err) {
          return { id: String(raw?.id ?? Math.random()), name: String(raw?.name || 'Unknown run'), preset: '', record: null, kept: true, problem: err.message, raw };
        }
      });
      this.sort();
      this.onChange();
      return '';
    } catch (err) {
      this.onChange();
      return err.message;
    }
  }

  onChange() {
    this.dispatchEvent(new Event('change'));
  }

  row(record, kept, problem) {
    return { id: record.id, name: record.name, preset: this.presetTitle(record.preset), record, kept, problem };
  }

  sort() {
    this.rows.sort((a, b) => (b.record?.createdAt ?? 0) - (a.record?.createdAt ?? 0));
  }

  get(id) {
    return this.rows.find((r) => r.id === id);
  }

  // save writes a row's record and says why the store refused it ('' when it took it).
  async save(row) {
    try {
      row.record.updatedAt = Date.now();
      await this.store.put(row.record);
      row.kept = true;
      row.problem = '';
    } catch (err) {
      row.kept = false;
      row.problem = `This run is shown but not kept: ${err.message}.`;
    }
    this.onChange();
    return row.problem;
  }

  /**
   * begin records a run that starts: fields are the record's first values (settings, preset,
   * testImages, workers, kernels, params, macs, stepsPerEpoch, totalSteps). It returns the row,
   * which the page fills in as the run goes (progress, epoch, end).
   */
  begin(fields) {
    const n = this.rows.filter((r) => r.record && r.record.preset === fields.preset).length + 1;
    const record = checkRecord({
      format: recordFormat,
      id: `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      name: `${this.presetTitle(fields.preset) || 'Custom'} #${n}`,
      createdAt: Date.now(),
      status: 'training',
      ...fields,
    });
    const row = this.row(record, false, '');
    this.rows.unshift(row);
    this.save(row);
    return row;
  }

  // progress adds a progress event's points to a training row (kept at its next save).
  progress(row, m) {
    const c = row.record.curve;
    for (const [step, loss, smooth] of m.points) {
      c.steps.push(step);
      c.loss.push(loss);
      c.smooth.push(smooth);
    }
    row.record.imagesPerSec = m.imagesPerSec;
    row.record.wallMs = m.elapsedMs;
  }

  // epoch records an epoch's evaluation, and saves the run so far.
  epoch(row, m) {
    row.record.epochs.push({ epoch: m.epoch, step: m.step, trainLoss: m.trainLoss, lossImages: m.lossImages, durationMs: m.durationMs, test: m.test || null,
      digits: myDigitsResult(m.digits) });
    return this.save(row);
  }

  /**
   * end records how a run ended (status, error, wallMs) and keeps its weights (bytes, or null
   * when there are none to keep). It resolves with what the student should know: '' when all
   * was kept.
   */
  async end(row, { status, error = '', wallMs, weights }) {
    const r = row.record;
    Object.assign(r, { status, error });
    if (wallMs) r.wallMs = wallMs;
    let refused = null; // why the store refused the weights
    if (weights) {
      try {
        await this.store.putWeights(r.id, weights);
        r.weights = { bytes: weights.length, problem: '' };
      } catch (err) {
        // The weights stay in this page's memory: the run can still be made current until it closes.
        refused = err;
        this.weights.set(r.id, weights);
        r.weights = { bytes: weights.length, problem: `not kept: ${err.message}` };
      }
    } else {
      r.weights = { bytes: 0, problem: status === 'diverged' ? 'the run diverged, so its weights are of no use' : 'none were made' };
    }
    const problem = await this.save(row);
    if (problem) return problem;
    return refused ? `The run is kept, but not its weights: ${refused.message}. They stay usable until the page closes.` : '';
  }

  // weightsOf returns a run's weights file, from the store or this page's memory.
  async weightsOf(id) {
    if (this.weights.has(id)) return this.weights.get(id);
    const bytes = await this.store.getWeights(id);
    if (!bytes) throw new Error('its weights are not kept in this browser');
    return bytes;
  }

  async rename(id, name) {
    const row = this.get(id);
    if (!row || !row.record) return '';
    row.name = row.record.name = name.slice(0, 200);
    return this.save(row);
  }

  async delete(id) {
    await this.store.delete(id).catch((err) => {
      if (this.store.db) throw err; // else it was never stored
    });
    this.weights.delete(id);
    this.rows = this.rows.filter((r) => r.id !== id);
    this.onChange();
  }

  async clear() {
    if (this.store.db) await this.store.clear();
    this.weights.clear();
    this.rows = [];
    this.onChange();
  }

  // export returns a Blob of every run that opens: JSON with the records, and each run's
  // safetensors weights file in base64.
  async export() {
    const runs = [];
    for (const row of this.rows) {
      if (!row.record) continue;
      let weights = null;
      if (row.record.weights.bytes) weights = await this.weightsOf(row.id).catch(() => null);
      runs.push({ ...row.record, weightsBase64: weights ? toBase64(new Uint8Array(weights)) : null });
    }
    const text = JSON.stringify({ kind: exportKind, format: recordFormat, exportedAt: new Date().toISOString(), runs });
    return { blob: new Blob([text], { type: 'application/json' }), count: runs.length };
  }

  /**
   * import reads a file of exported runs and keeps each one, replacing a run with the same id.
   * It resolves with {added, replaced, problems}; a file that is not such an export rejects
   * with a message, and nothing changes.
   */
  async import(file) {
    if (file.size > maxImportBytes) throw new Error(`${file.name} is ${Math.round(file.size / 1e6)} MB, more than a runs file of this trainer (at most ${maxImportBytes / 1e6} MB)`);
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (err) {
      throw new Error(`${file.name} is not a runs file exported here (not JSON: ${err.message})`);
    }
    if (!data || data.kind !== exportKind || !Array.isArray(data.runs)) throw new Error(`${file.name} is not a runs file exported by this trainer`);
    if (!(data.format <= recordFormat)) throw new Error(`${file.name} comes from a newer version of the trainer (format ${data.format}; this page reads up to ${recordFormat})`);
    // Every run is checked before any is kept: a damaged file changes nothing.
    const incoming = data.runs.map((raw, i) => {
      try {
        const record = checkRecord(raw);
        const weights = typeof raw.weightsBase64 === 'string' ? fromBase64(raw.weightsBase64) : null;
        if (weights && weights.length !== record.weights.bytes) throw new Error(`its weights are ${weights.length} bytes, not the ${record.weights.bytes} recorded`);
        if (!weights) record.weights = { bytes: 0, problem: 'not in the imported file' };
        if (record.status === 'training') record.status = 'stopped';
        return { record, weights };
      } catch (err) {
        throw new Error(`${file.name}: run ${i + 1} (${JSON.stringify(String(raw?.name ?? ''))}) cannot be read: ${err.message}`);
      }
    });
    let added = 0;
    let replaced = 0;
    const problems = [];
    for (const { record, weights } of incoming) {
      const before = this.get(record.id);
      if (before) this.rows = this.rows.filter((r) => r !== before);
      before ? replaced++ : added++;
      const row = this.row(record, false, '');
      this.rows.push(row);
      if (weights) {
        try {
          await this.store.putWeights(record.id, weights);
        } catch (err) {
          this.weights.set(record.id, weights);
          problems.push(`the weights of ${record.name} are not kept (${err.message})`);
        }
      }
      const problem = await this.save(row);
      if (problem) problems.push(`${record.name}: ${problem}`);
    }
    this.sort();
    this.onChange();
    return { added, replaced, problems };
  }
}
