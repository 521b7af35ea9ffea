// The notebook's experiments: its network, half the filters, and 4×4 kernels, one after the
// other with the same seed and data (every other setting as the student left it), then compared.
// The queue survives a reload in localStorage, so that a stopped one can be continued. It does
// not know how a run trains or how the queue is shown: the page hands it those.
import { rate, roughDuration } from './format.js';

const queueKey = 'mnist-trainer.experiments';

// experimentPresets are the notebook's three networks, in the notebook's order.
export const experimentPresets = ['notebook', 'half-filters', 'kernel-4'];

export class Experiments {
  /**
   * The page gives:
   * - run(name, base, testImages): trains preset name's architecture on the settings base, and
   *   resolves with {row, status} as the page's train does, or null if the run did not start;
   * - estimate(names, base, testImages): resolves with {seconds, speed} for those runs, the
   *   speed being the notebook network's images/s that the estimate assumes;
   * - title(name): a preset's title;
   * - show(): called whenever the queue changes, to show it (queue below);
   * - done(ids): called with the run ids when all three have finished.
   */
  constructor(page) {
    this.page = page;
    // {base, testImages, remaining: [preset], done: [run id], running, text}, or null.
    this.queue = load();
  }

  // start queues the three runs on the settings base and runs them.
  async start(base, testImages) {
    if (this.queue?.running) return;
    this.queue = { base, testImages, remaining: [...experimentPresets], done: [], running: false, text: '' };
    await this.continue();
  }

  // continue runs what is left of a stopped queue. A run that stops, diverges or fails stops the
  // queue, which keeps that run to do again.
  async continue() {
    const q = this.queue;
    if (!q || q.running) return;
    q.running = true;
    this.save();
    while (q.remaining.length) {
      const name = q.remaining[0];
      const total = q.done.length + q.remaining.length;
      await this.describe(`Experiments: run ${q.done.length + 1} of ${total}, ${this.page.title(name)}.`);
      const result = await this.page.run(name, q.base, q.testImages);
      if (!result || result.status !== 'finished') {
        q.running = false;
        const why = !result ? 'stopped: a setting was refused' : result.status === 'stopped' ? 'stopped' : `stopped: the run ${result.status}`;
        await this.describe(`Experiments ${why}; Continue runs ${this.page.title(name)} again.`);
        return;
      }
      q.done.push(result.row.id);
      q.remaining.shift();
      this.save();
    }
    this.queue = null;
    this.save();
    this.page.show();
    this.page.done(q.done);
  }

  // describe sets the queue's text: prefix, what is still to run, and how long that should take;
  // and keeps the queue, so that a reload shows what it said.
  async describe(prefix) {
    const q = this.queue;
    const { seconds, speed } = await this.page.estimate(q.remaining, q.base, q.testImages).catch(() => ({ seconds: 0 }));
    const names = q.remaining.map((n) => this.page.title(n)).join(', ');
    q.text = `${prefix}${names ? ` Still to run: ${names}` : ''}` +
      `${seconds ? `, about ${roughDuration(seconds)} at ${rate(speed)} images/s for the notebook network` : ''}.`;
    this.save();
    this.page.show();
  }

  save() {
    const q = this.queue;
    try {
      if (q && (q.remaining.length || q.running)) localStorage.setItem(queueKey, JSON.stringify(q));
      else localStorage.removeItem(queueKey);
    } catch {
      // Without localStorage, a queue cannot be continued after a reload; it still runs.
    }
  }
}

// load reads a queue that a reload interrupted: it is stopped now, and can be continued.
function load() {
  try {
    const q = JSON.parse(localStorage.getItem(queueKey) || 'null');
    return q && Array.isArray(q.remaining) && Array.isArray(q.done) && q.base ? { ...q, running: false } : null;
  } catch {
    return null;
  }
}
