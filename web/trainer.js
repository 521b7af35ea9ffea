// The trainer of one page: its team of workers (workers.js), which it starts, restarts and
// commands, and the browser-wide rule that one trainer trains at a time. The page's panels never
// talk to workers: app.js asks the trainer, and listens to its events, CustomEvents named as the
// workers' (protocol.md: ready, progress, evaluating, epoch), plus failed {message} when the team
// has ended and waiting while a run waits for another trainer.
import { withLock } from './datacache.js';
import { Team } from './workers.js';

// trainingLock is held by the trainer that trains, across every page and tab of the browser:
// several teams of workers on the same cores would each run at a fraction of the speed.
const trainingLock = 'mnist-trainer.training';

export class Trainer extends EventTarget {
  // module() returns a Promise of the compiled main.wasm, which every worker instantiates: it is
  // called when a team starts, so main.wasm is fetched only once the page starts one.
  constructor(module) {
    super();
    this.module = module;
    this.team = null;
    this.waiting = null; // while a run waits for the lock: what Stop aborts
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // start starts a team of count workers, replacing one that has failed.
  start(count) {
    this.team = new Team(count, this.module(), (m) => this.emit(m.event, m), (message) => this.emit('failed', { message }));
  }

  /** count is the team's size (0 before start). */
  get count() {
    return this.team ? this.team.count : 0;
  }

  /** failing is true once a worker has failed and the team is ending. */
  get failing() {
    return Boolean(this.team && this.team.failing);
  }

  /** failure is how the team ended, for the tests. */
  get failure() {
    return this.team && this.team.failure ? structuredClone(this.team.failure) : null;
  }

  // request asks worker 0 (predictions, visualisations, weights, evaluations).
  request(op, args = [], transfer = []) {
    return this.team ? this.team.request(op, args, transfer) : Promise.reject(new Error('The trainer is not running.'));
  }

  // all sends a request every worker must accept (configure, loadData).
  all(op, args = []) {
    return this.team ? this.team.all(op, args) : Promise.reject(new Error('The trainer is not running.'));
  }

  // control pauses, resumes or stops the run; stop also ends a wait for the other trainer.
  control(op) {
    if (op === 'stop' && this.waiting) {
      this.waiting.abort(); // it had not started: it ends now
      return Promise.resolve({});
    }
    return this.team.control(op);
  }

  /**
   * train trains the team holding the browser's training lock. While another trainer holds it,
   * it says waiting and waits; onStart is called when the run really starts. A run stopped
   * while it waited answers {stopped: true, epochs: 0}.
   */
  async train(options, onStart) {
    const run = () => {
      onStart();
      return this.team.train(options);
    };
    const now = await withLock(trainingLock, async (lock) => (lock ? { value: await run() } : null), { ifAvailable: true });
    if (now) return now.value;
    this.waiting = new AbortController();
    this.emit('waiting', {});
    try {
      return await withLock(trainingLock, () => {
        this.waiting = null;
        return run();
      }, { signal: this.waiting.signal });
    } catch (err) {
      if (err.name === 'AbortError') return { stopped: true, epochs: 0 };
      throw err;
    } finally {
      this.waiting = null;
    }
  }

  // memory returns each worker's WebAssembly memory in bytes.
  memory() {
    return this.team.memory();
  }

  // crash makes worker i fail, for the browser tests (workers.js).
  crash(i, how) {
    this.team.crash(i, how);
  }
}
