// The runs kept in the browser: one IndexedDB database with two stores, `runs` (the records:
// settings, curves, reports, speed) and `weights` (each run's safetensors file). Weights are
// kept apart because they are 100 times larger: listing the runs never reads them, and a full
// store can refuse a run's weights and still keep its record.

const dbName = 'mnist-trainer';
const dbVersion = 1;

/** recordFormat is the version of the run records this page writes (see checkRecord). */
export const recordFormat = 1;

// request turns an IDBRequest into a Promise.
export const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// done resolves when a transaction commits, and rejects with its error (QuotaExceededError when
// the store is full) when it aborts.
export const done = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error || new DOMException('the write was aborted', 'AbortError'));
});

// storeError says in words why the browser refused to keep something.
export function storeError(err) {
  const name = err && err.name;
  if (name === 'QuotaExceededError') return 'the browser’s storage for this site is full (free some space, or delete runs)';
  if (name === 'InvalidStateError' || name === 'UnknownError') return `the browser’s database failed (${err.message || name})`;
  if (name === 'SecurityError') return 'this browser does not let the page store anything here (a private window, or storage blocked for this site)';
  return (err && err.message) || String(err);
}

/**
 * RunStore keeps run records and their weights in IndexedDB. Every method rejects with an Error
 * whose message says what failed in words; the page shows it and keeps the run on screen.
 */
export class RunStore {
  constructor() {
    this.db = null;
    this.problem = ''; // why the store cannot be used at all, once it cannot
  }

  // open opens (or creates) the database; it rejects if the browser has no working IndexedDB.
  async open() {
    try {
      if (typeof indexedDB === 'undefined') throw new DOMException('this browser has no IndexedDB', 'NotSupportedError');
      const r = indexedDB.open(dbName, dbVersion);
      r.onupgradeneeded = () => {
        const db = r.result;
        if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('weights')) db.createObjectStore('weights');
      };
      // Another tab with an older page holds the database open: it is asked to let go.
      r.onblocked = () => {};
      this.db = await request(r);
      this.db.onversionchange = () => this.db.close();
    } catch (err) {
      this.problem = `Runs cannot be kept in this browser: ${storeError(err)}. They stay on this page until it closes.`;
      throw new Error(this.problem);
    }
  }

  async tx(stores, mode, fn) {
    if (!this.db) throw new Error(this.problem || 'Runs cannot be kept: the database is not open.');
    try {
      const tx = this.db.transaction(stores, mode);
      const result = fn(tx);
      await done(tx);
      return result instanceof IDBRequest ? result.result : result;
    } catch (err) {
      throw new Error(storeError(err));
    }
  }

  // list returns every stored record as it was stored; checkRecord tells which can be opened.
  list() {
    return this.tx(['runs'], 'readonly', (tx) => tx.objectStore('runs').getAll());
  }

  // put writes a record (without its weights).
  put(record) {
    return this.tx(['runs'], 'readwrite', (tx) => tx.objectStore('runs').put(record));
  }

  // putWeights keeps a run's safetensors file.
  putWeights(id, bytes) {
    return this.tx(['weights'], 'readwrite', (tx) => tx.objectStore('weights').put(bytes, id));
  }

  // getWeights returns a run's safetensors file, or undefined if none is kept.
  getWeights(id) {
    return this.tx(['weights'], 'readonly', (tx) => tx.objectStore('weights').get(id));
  }

  // delete removes a run and its weights.
  delete(id) {
    return this.tx(['runs', 'weights'], 'readwrite', (tx) => {
      tx.objectStore('runs').delete(id);
      tx.objectStore('weights').delete(id);
    });
  }

  // clear removes every run.
  clear() {
    return this.tx(['runs', 'weights'], 'readwrite', (tx) => {
      tx.objectStore('runs').clear();
      tx.objectStore('weights').clear();
    });
  }
}

// statuses a record can have; 'training' is written when a run starts, so a run that never
// ends (the tab closed) is still listed.
const statuses = ['training', 'finished', 'stopped', 'diverged', 'failed'];

/**
 * checkRecord returns a record this page can show, from one a page of this or an older version
 * wrote: fields added since are filled in. A record of a newer format, or one that is not a run
 * record at all, throws an Error that says so (the Runs panel lists it as such).
 */
export function checkRecord(r) {
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || !r.id) throw new Error('not a run record');
  const format = r.format ?? 0;
  if (!Number.isInteger(format) || format < 0) throw new Error(`format ${JSON.stringify(r.format)} is not a record format`);
  if (format > recordFormat) {
    throw new Error(`it was saved by a newer version of the trainer (record format ${format}; this page reads up to ${recordFormat}): reload the page to update it`);
  }
  if (!r.settings || typeof r.settings !== 'object') throw new Error('it has no settings');
  const curve = r.curve || {};
  const arrays = ['steps', 'loss', 'smooth'].map((k) => curve[k] ?? []);
  if (!arrays.every(Array.isArray) || new Set(arrays.map((a) => a.length)).size !== 1) throw new Error('its loss curve is damaged');
  const status = statuses.includes(r.status) ? r.status : 'finished';
  // Format 0: the first records, before workers, kernels and the error were kept.
  return {
    format: recordFormat,
    id: r.id,
    name: typeof r.name === 'string' && r.name ? r.name : 'Unnamed run',
    preset: typeof r.preset === 'string' ? r.preset : '',
    createdAt: Number(r.createdAt) || 0,
    updatedAt: Number(r.updatedAt) || Number(r.createdAt) || 0,
    status,
    error: typeof r.error === 'string' ? r.error : '',
    settings: { ...r.settings },
    testImages: Number(r.testImages) || 0,
    curve: { steps: arrays[0], loss: arrays[1], smooth: arrays[2] },
    epochs: Array.isArray(r.epochs) ? r.epochs.filter((e) => e && typeof e.epoch === 'number') : [],
    stepsPerEpoch: Number(r.stepsPerEpoch) || 1,
    totalSteps: Number(r.totalSteps) || arrays[0].length,
    imagesPerSec: Number(r.imagesPerSec) || 0,
    wallMs: Number(r.wallMs) || 0,
    workers: Number(r.workers) || 1,
    kernels: typeof r.kernels === 'string' ? r.kernels : 'unknown',
    kernelList: Array.isArray(r.kernelList) ? r.kernelList : [],
    params: Number(r.params) || 0,
    macs: Number(r.macs) || 0,
    weights: r.weights && typeof r.weights === 'object' ? { bytes: Number(r.weights.bytes) || 0, problem: String(r.weights.problem || '') } : { bytes: 0, problem: 'not kept' },
  };
}

/** recordTest is the test result of a record's latest epoch that has one, or null. */
export const recordTest = (r) => [...r.epochs].reverse().find((e) => e.test)?.test ?? null;
