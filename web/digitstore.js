// My digits, a student's own: each a 28×28 image as the network sees it (the pad's drawing,
// centred as MNIST digits are) and its label, kept in this browser's IndexedDB, in a database of
// their own beside the runs' (store.js). Nothing here leaves the browser: only an export does.
//
// A digit the browser refuses to store (its storage is full, IndexedDB is off) stays on the page
// until it closes, marked as not kept, with the reason; nothing is dropped silently.
import { done, request, storeError } from './store.js';
import { pixelsPerImage } from './trainset.js';

const dbName = 'mnist-trainer-digits';
const dbVersion = 1;

/** maxDigits bounds My digits: a class set of 30 students × 300 digits, 8 MB of pixels. */
export const maxDigits = 10000;

// order numbers digits in the order they came, across reloads: ms since 1970, then a counter.
let lastOrder = 0;
const nextOrder = () => (lastOrder = Math.max(lastOrder + 1, Date.now() * 1000));

/**
 * MyDigitsList holds the digits, oldest first: rows {id, label, pixels (Uint8Array), order,
 * source, kept, problem}. Every method that changes them resolves with '' when the store took
 * the change, or with why it did not, in words.
 */
export class MyDigitsList {
  constructor() {
    this.db = null;
    this.problem = ''; // why nothing can be kept, once that is known
    this.rows = [];
  }

  // open reads the kept digits. It resolves with '' or with why digits cannot be kept here.
  async open() {
    try {
      if (typeof indexedDB === 'undefined') throw new DOMException('this browser has no IndexedDB', 'NotSupportedError');
      const r = indexedDB.open(dbName, dbVersion);
      r.onupgradeneeded = () => r.result.createObjectStore('digits', { keyPath: 'id' });
      this.db = await request(r);
      this.db.onversionchange = () => this.db.close();
      const stored = await this.tx('readonly', (s) => s.getAll());
      this.rows = stored.filter(isDigit).map((d) => ({ ...d, kept: true, problem: '' }));
      this.rows.sort((a, b) => a.order - b.order);
      lastOrder = Math.max(lastOrder, ...this.rows.map((r) => r.order));
      return '';
    } catch (err) {
      this.problem = `My digits cannot be kept in this browser: ${storeError(err)}. They stay on this page until it closes: export them to keep them.`;
      return this.problem;
    }
  }

  async tx(mode, fn) {
    if (!this.db) throw new Error(this.problem || 'the database is not open');
    try {
      const tx = this.db.transaction(['digits'], mode);
      const result = fn(tx.objectStore('digits'));
      await done(tx);
      return result instanceof IDBRequest ? result.result : result;
    } catch (err) {
      throw new Error(storeError(err));
    }
  }

  get count() {
    return this.rows.length;
  }

  // counts returns how many digits of each label there are.
  counts() {
    const counts = new Array(10).fill(0);
    for (const r of this.rows) counts[r.label]++;
    return counts;
  }

  /**
   * add keeps digits [{label, pixels}] from source ('drawn', or the files they were imported
   * from), in one write: all are kept or none. It resolves with the new rows and why the store
   * refused them ('' when it took them); refused rows stay on the page, marked.
   */
  async add(digits, source) {
    if (this.count + digits.length > maxDigits) {
      throw new Error(`My digits holds at most ${maxDigits.toLocaleString('en')}: with these ${digits.length.toLocaleString('en')} there would be ${(this.count + digits.length).toLocaleString('en')}. Delete some first`);
    }
    const rows = digits.map(({ label, pixels }) => {
      const order = nextOrder();
      return { id: `d-${order.toString(36)}`, label, pixels, order, source, addedAt: Date.now(), kept: false, problem: '' };
    });
    this.rows.push(...rows);
    let problem = '';
    try {
      await this.tx('readwrite', (s) => rows.forEach(({ kept, problem, ...record }) => s.put(record)));
      rows.forEach((r) => (r.kept = true));
    } catch (err) {
      problem = `not kept: ${err.message}`;
      rows.forEach((r) => (r.problem = problem));
    }
    return { rows, problem };
  }

  // delete removes the digit id.
  async delete(id) {
    if (this.db) await this.tx('readwrite', (s) => s.delete(id));
    this.rows = this.rows.filter((r) => r.id !== id);
  }

  // clear removes every digit.
  async clear() {
    if (this.db) await this.tx('readwrite', (s) => s.clear());
    this.rows = [];
  }

  // set is every digit as train and the digits calls take them, {images, labels} (protocol.md
  // DigitSet), with ids, the id of each, in the same order; null when there are none.
  set() {
    if (!this.count) return null;
    const images = new Uint8Array(this.count * pixelsPerImage);
    const labels = new Uint8Array(this.count);
    this.rows.forEach((r, i) => {
      images.set(r.pixels, i * pixelsPerImage);
      labels[i] = r.label;
    });
    return { images, labels, ids: this.rows.map((r) => r.id) };
  }
}

// isDigit says whether a stored record is a digit this page can use.
function isDigit(d) {
  return d && typeof d.id === 'string' && Number.isInteger(d.label) && d.label >= 0 && d.label <= 9 &&
    d.pixels instanceof Uint8Array && d.pixels.length === pixelsPerImage && Number.isFinite(d.order);
}

/** recordDigits is the evaluation of My digits of a record's latest epoch that has one, or null. */
export const recordDigits = (r) => [...r.epochs].reverse().find((e) => e.digits)?.digits ?? null;
