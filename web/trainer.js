// The trainer of one page: its team of workers (workers.js), which it starts, restarts and
// commands, and the browser-wide rule that one trainer trains at a time. The page's panels never
// talk to workers: app.js asks the trainer, and listens to its events, CustomEvents named as the
// workers' (protocol.md: ready, progress, evaluating, epoch), plus failed {message} when the team
// has ended, waiting while a run waits for another trainer, and measuring {count} then team
// {team, speeds} while it chooses how many workers train (chooseTeam).
import { withLock } from './locks.js';
import { Team } from './workers.js';

// measureSteps is how many steps chooseTeam times for each team, after one that compiles.
const measureSteps = 3;

// keepTeamFor is how long a measured team is kept: the browser, its engine and the machine's load
// change, so it is measured again after a month.
const keepTeamFor = 30 * 24 * 3600 * 1000;

// readKept returns the team measured before under key, or null.
function readKept(key) {
  try {
    const kept = JSON.parse(localStorage.getItem(key));
    const fresh = kept && Date.now() - Date.parse(kept.at) < keepTeamFor;
    return fresh && Number.isInteger(kept.team) && kept.team >= 1 && kept.speeds && typeof kept.speeds === 'object' ? kept : null;
  } catch {
    return null; // no storage, or not ours
  }
}

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

  // start starts a team of count workers, replacing one that has failed. With measure, the team
  // that trains is chosen by measurement before the first run (chooseTeam); otherwise all count.
  start(count, measure = false) {
    this.team = new Team(count, this.module(), (m) => this.emit(m.event, m), (message) => this.emit('failed', { message }));
    // {team, speeds: {size: images/s}, at}: measured before, in this browser, or once measured.
    this.measured = measure && count > 1 ? readKept(this.teamKey()) : null;
    this.active = measure && count > 1 ? this.measured?.team ?? 0 : count; // 0: not measured yet
  }

  // teamKey is where localStorage keeps the team chosen for this browser, machine and team size.
  teamKey() {
    return `mnist-trainer.team:${this.count}:${navigator.hardwareConcurrency}:${navigator.userAgent}`;
  }

  /** count is the number of workers started (0 before start). */
  get count() {
    return this.team ? this.team.count : 0;
  }

  /** training is the number of workers that train (all of them until the team is chosen). */
  get training() {
    return this.active || this.count;
  }

  /**
   * chooseTeam measures, once per browser, which of the teams it may use trains fastest: a worker
   * alone, two, and all of them. Messages between workers cost 40 times more in some engines than
   * in others, and WebKit reports 4 cores on any machine with fewer than 8, so the number of cores
   * is only a guess. A few steps each, twice (a few seconds in all), on models the workers drop;
   * the results are the same bits whatever the team (protocol.md). The choice is kept in
   * localStorage for this browser and machine, and announced as 'team' {team, speeds}. It
   * resolves with false when the page stopped it, and true once the team is chosen.
   */
  async chooseTeam() {
    if (this.active) return true;
    this.emit('measuring', { count: this.count });
    // Each team twice, in one order and then the other, keeping its better figure: the engine
    // compiles the code better as it runs, so a single pass favoured whichever team came last.
    const sizes = [...new Set([1, 2, this.count])];
    const speeds = {};
    for (const size of [...sizes, ...[...sizes].reverse()]) {
      const r = await this.team.measure(size, measureSteps);
      if (r.stopped) return false; // Stop was pressed: nothing is chosen, and the run does not start
      speeds[size] = Math.max(speeds[size] ?? 0, r.imagesPerSec);
    }
    // The fastest; a larger team only when it is at least 5% faster, since it holds more memory.
    let team = 1;
    for (const [size, speed] of Object.entries(speeds)) if (speed > speeds[team] * 1.05) team = Number(size);
    this.measured = { team, speeds, at: new Date().toISOString() };
    try {
      localStorage.setItem(this.teamKey(), JSON.stringify(this.measured));
    } catch {} // no storage: measured again next time
    this.active = team;
    this.emit('team', this.measured);
    return true;
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

  // all sends a request every worker must accept (configure).
  all(op, args = []) {
    return this.team ? this.team.all(op, args) : Promise.reject(new Error('The trainer is not running.'));
  }

  // loadData gives every worker the MNIST files and the training images' pixels, which the page
  // keeps (trainset.js).
  loadData(files, pixels) {
    return this.team ? this.team.loadData(files, pixels) : Promise.reject(new Error('The trainer is not running.'));
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
    const run = async () => {
      if (!(await this.chooseTeam())) return { stopped: true, epochs: 0 };
      onStart();
      return this.team.train({ ...options, team: this.active });
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
