// The page's team of workers, and the one API the page talks to them with: a method per operation
// of protocol.md, each documented here. This module alone knows the operations' names and their
// arguments; workers.js carries the messages. A team of workers trains together, each on its share
// of every batch; worker 0 is the primary: it alone reports a run's progress and serves
// predictions, figures, evaluations and weight files, and takes pause and resume. Settings, data,
// runs and stop go to every worker.
//
// Every method returns a Promise, which rejects with a CodedError (errors.js): code, key, message.
// The team is an EventTarget of CustomEvents named as the workers' (protocol.md: ready, progress,
// evaluating, epoch), with the message as detail; and failed {message, unstarted, stuck} once a
// worker has failed and the team has ended (unstarted: a fresh worker did not start; stuck: the
// team never got ready after every relaunch; workers.js), waiting while a run waits for another
// page's team, and measuring {count}, then team {team, speeds, at},
// while it chooses how many workers train (chooseTeam, also before any Train: prepare).
import { CodedError } from './errors.js';
import { withLock } from './locks.js';
import { serveImages } from './trainset.js';
import { Workers } from './workers.js';

// abortWait is how long, in ms, the other workers get to end their run after one fails.
const abortWait = 5000;

// measureSteps is how many steps chooseTeam times for each team size, after one that compiles.
const measureSteps = 3;

// keepTeamFor is how long a measured team is kept: the browser, its engine and the machine's load
// change, so it is measured again after a month.
const keepTeamFor = 30 * 24 * 3600 * 1000;

// trainingLock is held by the team that trains, across every page and tab of the browser: several
// teams on the same cores would each run at a fraction of the speed.
const trainingLock = 'mnist-trainer.training';

// firsts lists the first n worker numbers: a team of n.
const firsts = (n) => Array.from({ length: n }, (_, i) => i);

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

export class Team extends EventTarget {
  // module() returns a Promise of the compiled main.wasm, which every worker instantiates: it is
  // called when the team starts, so main.wasm is fetched only once the page starts one.
  constructor(module) {
    super();
    this.module = module;
    this.workers = null;
    this.slots = 0; // how many workers the team may have: start's count (count: how many run)
    this.runNumber = 0; // the number of the latest run (train or measure), from 1
    this.runs = new Set(); // the train and measure requests in flight: {worker, settled}
    this.waiting = null; // while a run waits for the training lock: what stop aborts
    this.measured = null; // {team, speeds: {size: images/s}, at}: measured before, or once measured
    this.chosen = 0; // how many workers train; 0 until measured
    // What the workers were given, for a fresh team to get the same (renew): the settings
    // configure last accepted, loadData's files and images, and the ports serving the images.
    this.given = { settings: null, data: null, ports: [] };
    // While renew or shrink changes the team: {resolve, reject} of a fresh worker's ready, and stopped.
    this.renewing = null;
    // While chooseTeam measures: {stopped}, which stop sets, so that no measurement starts after.
    this.measuring = null;
    // While prepare chooses the team before any Train: the Promise of chooseTeam's answer; and
    // while a Train waits for it, {stopped}, which stop sets.
    this.choosing = null;
    this.choiceWait = null;
    // configure and the changes of the team (renew, shrink) take turns (inTurn): a configuration
    // on its way to a worker that renew then replaced, or shrink ended, failed with it, so a Quick
    // run pressed while the team was chosen could show "Check the settings: Worker 2 was replaced
    // by a fresh one." (pagetest's TestBrowserTeamChosen).
    this.turn = Promise.resolve();
  }

  // inTurn runs fn once the configure, renew or shrink before it has ended, and answers as fn.
  inTurn(fn) {
    const r = this.turn.then(fn);
    this.turn = r.catch(() => {});
    return r;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * start starts a team of up to count workers (slots), replacing a team that has failed. With
   * measure, how many train is chosen by measurement before the first run (chooseTeam), and only
   * those are started when this browser measured before; otherwise all of them.
   */
  start(count, measure = false) {
    this.runNumber = 0;
    this.runs.clear();
    this.turn = Promise.resolve(); // the failed team's requests failed with it
    this.slots = count;
    this.measured = measure && count > 1 ? readKept(this.teamKey()) : null;
    this.chosen = measure && count > 1 ? this.measured?.team ?? 0 : count;
    if (this.chosen) count = Math.min(count, this.chosen);
    const workers = new Workers(count, this.module(), {
      // A renewed team's ready is renew's, not the page's: the page configured this team already.
      event: (m) => (m.event === 'ready' && this.renewing ? this.renewing.resolve() : this.emit(m.event, m)),
      failing: (i, message) => this.endRuns(i, message),
      failed: (message, unstarted, stuck) => {
        this.renewing?.reject(new CodedError('worker-failed', message));
        this.emit('failed', { message, unstarted, stuck });
      },
    });
    this.workers = workers;
    if (count > 1) this.join().forEach((p) => p.catch(() => {}));
  }

  // join gives each worker its place in the team, for the sums of every step (model.Shard), which
  // go between worker 0 and each other worker straight (worker.js, teamPorts). It answers with
  // each worker's reply, in order; a worker that cannot join fails the team.
  join() {
    const { workers, count } = this;
    return Array.from({ length: count }, (_, i) => workers.ask(i, 'join', [{ index: i, count }]).catch((err) => {
      workers.fail(i, err.message);
      throw err;
    }));
  }

  /** count is the number of workers running (0 before start). */
  get count() {
    return this.workers ? this.workers.count : 0;
  }

  /** active is the number of workers that train: all of them until the team is chosen. */
  get active() {
    return this.chosen || this.count;
  }

  /** relaunched is how many times the workers started again, one of them not starting (workers.js). */
  get relaunched() {
    return this.workers ? this.workers.relaunched : 0;
  }

  /** respawned is how many times a worker renew started afresh was started again, not starting (workers.js). */
  get respawned() {
    return this.workers ? this.workers.respawned : 0;
  }

  /** failing is true once a worker has failed and the team is ending. */
  get failing() {
    return Boolean(this.workers && this.workers.failing);
  }

  /** failure is how the team ended, {worker, message, others}, for the tests; null while it runs. */
  get failure() {
    return this.workers && this.workers.failure ? structuredClone(this.workers.failure) : null;
  }

  // ask sends op(args) to worker i.
  ask(i, op, args = [], transfer = []) {
    return this.workers ? this.workers.ask(i, op, args, transfer) : Promise.reject(new CodedError('not-running', 'The trainer is not running.'));
  }

  // each sends op to every worker, with argsOf(i) = [args, transfer], and answers with worker 0's
  // value, or the first error.
  async each(op, argsOf) {
    if (!this.workers) return this.ask(0, op);
    const replies = await Promise.allSettled(Array.from({ length: this.count }, (_, i) => this.ask(i, op, ...argsOf(i))));
    const failed = replies.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replies[0].value;
  }

  // ---- Settings and data ----------------------------------------------------------------------

  /** configure sets the next run's settings on every worker: a query string or {key: text}. → {values, summary} */
  configure(settings) {
    return this.inTurn(async () => {
      const r = await this.each('configure', () => [[settings]]);
      this.given.settings = settings;
      return r;
    });
  }

  /** describe answers what configure would for settings, and changes nothing. → {values, summary} */
  describe(settings) {
    return this.ask(0, 'describe', [settings]);
  }

  /**
   * unpackImages checks the training images file and unpacks it. The file's bytes move to worker 0
   * (file is empty afterwards): a copy left here would wait for the collector. → Uint8Array: the
   * images as runs (trainset.js)
   */
  unpackImages(file) {
    return this.ask(0, 'unpackImages', [file], [file.buffer]);
  }

  /**
   * loadData gives every worker the MNIST files but the training images (name -> bytes, a copy
   * each), and a MessagePort to images, the training images the page keeps once for all
   * (trainset.js, TrainingImages). → {train, test}: the image counts
   */
  loadData(files, images) {
    this.given.ports.forEach((p) => p?.close()); // those of workers that have ended
    this.given.ports = [];
    this.given.data = { files, images };
    return this.each('loadData', (i) => this.dataFor(i));
  }

  // dataFor is loadData's arguments for worker i, with a port of its own to the training images,
  // which replaces the one its predecessor had.
  dataFor(i) {
    const { files, images } = this.given.data;
    const { port1, port2 } = new MessageChannel();
    serveImages(port1, images);
    this.given.ports[i]?.close();
    this.given.ports[i] = port1;
    return [[files, { images: port2, count: images.count }], [port2]];
  }

  // ---- Runs ------------------------------------------------------------------------------------

  /**
   * train trains a fresh model from the configuration, testing options.testImages after each
   * epoch, and options.digits (My digits, a DigitSet, or null), which it also mixes in as the
   * mix-digits setting says, holding the browser's training lock: while another page's team holds it, the team says
   * waiting and waits. onStart() is called when the run really starts, after the team is chosen.
   * → {stopped, epochs}; a run stopped before it started answers {stopped: true, epochs: 0}.
   */
  async train(options, onStart) {
    if (this.choosing) {
      // The team is being chosen already (prepare): the run waits for it, and a Stop meanwhile
      // ends both.
      const wait = { stopped: false };
      this.choiceWait = wait;
      this.emit('measuring', { count: this.count });
      try {
        await this.choosing;
      } finally {
        this.choiceWait = null;
      }
      if (wait.stopped) return { stopped: true, epochs: 0 };
    }
    const run = async () => {
      if (!(await this.chooseTeam())) return { stopped: true, epochs: 0 };
      onStart();
      return this.runAll('train', { ...options, team: this.chosen }, firsts(this.chosen));
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

  /** pause pauses the run after its step under way. Worker 0 alone: the others then wait for its sums. → {} */
  pause() {
    // (Pausing every worker could deadlock: one paused before a step while worker 0, whose pause
    // came a moment later, already waits for it in that step's first sum.)
    return this.ask(0, 'pause');
  }

  /** resume lets a paused run go on. → {} */
  resume() {
    return this.ask(0, 'resume');
  }

  /** stop ends the run after its step under way, or a run still waiting for the lock. → {} */
  stop() {
    if (this.renewing) this.renewing.stopped = true; // no run is under way yet: none will start
    if (this.measuring) this.measuring.stopped = true; // nor another measurement
    if (this.choiceWait) this.choiceWait.stopped = true; // nor the run that waits for it
    if (this.waiting) {
      this.waiting.abort(); // it had not started: it ends now
      return Promise.resolve({});
    }
    // Every worker: the run under way may be a worker alone's, on the last (chooseTeam). The
    // answer is that of a worker that had a run, or else worker 0's error (no-run).
    const replies = Array.from({ length: this.count }, (_, i) => this.ask(i, 'stop'));
    if (!replies.length) return this.ask(0, 'stop');
    return Promise.any(replies).catch((err) => {
      throw err.errors[0];
    });
  }

  /**
   * chooseTeam measures, once per browser, which of the teams it may use trains fastest: two
   * workers, all of them, and a worker alone. What a second worker gains depends on the engine
   * and the cores, and WebKit reports 4 cores on any machine with fewer than 8, so the number of
   * cores is only a guess. A few steps each (a second time only when it could change the
   * choice; a few seconds in all), on models the workers drop; the results are the same bits
   * whatever the team (protocol.md). The choice is kept in localStorage for this browser and
   * machine, and announced as 'team'. It resolves with false when the page stopped it, and true
   * once the team is chosen.
   */
  async chooseTeam() {
    if (this.chosen) return true;
    const measuring = { stopped: false };
    this.measuring = measuring;
    try {
      return await this.measureTeams(measuring);
    } finally {
      if (this.measuring === measuring) this.measuring = null;
    }
  }

  // measureTeams is chooseTeam's measurement, until measuring.stopped.
  async measureTeams(measuring) {
    this.emit('measuring', { count: this.count });
    const speeds = {};
    // fastest is the team chosen from speeds: two workers, unless a worker alone measures at least
    // 15% faster, or a larger team at least 5%. A few steps overstate one worker's speed against a
    // whole run's in Firefox and WebKit (one worker measured 214–284 images/s in Firefox and
    // trained at 207–240 over 30 s, two measured 236–278 and trained at 269–272), and understate
    // two's, whose second worker starts cold: WebKit measured two at 345, 407 and 433 images/s in
    // runs where they then trained at about 600, against 416–466 for one, and with a 5% margin
    // chose one worker once (460 images/s). Every engine tested trains fastest with two on two
    // cores or more; a team of two fits a tab under 500 MB. A larger team must be 5% faster, as it
    // holds more memory.
    const margin = (size) => (size === 1 ? 1.15 : size === 2 ? 1 : 1.05);
    const fastest = () => {
      let team = speeds[2] ? 2 : 1;
      for (const [size, speed] of Object.entries(speeds)) if (speed > speeds[team] * margin(Number(size))) team = Number(size);
      return team;
    };
    // alone is the worker that measures alone: the last, which is then replaced.
    const alone = this.count - 1;
    // measure times each team of sizes, keeping each one's better figure; false when Stop was
    // pressed (nothing is chosen, and the run does not start).
    const times = {}; // how many times each team was measured
    const measure = async (sizes) => {
      for (const size of sizes) {
        // measure: steps training steps by the first size workers (or alone), on a model they then drop.
        const members = size === 1 ? [alone] : firsts(size);
        if (measuring.stopped) return false;
        const r = await this.runAll('measure', { team: size, steps: measureSteps, worker: members[0] }, members);
        if (r.stopped) return false;
        speeds[size] = Math.max(speeds[size] ?? 0, r.imagesPerSec);
        times[size] = (times[size] ?? 0) + 1;
      }
      return true;
    };
    // again is the teams of sizes worth a second time: those whose first came within a third of
    // what they must beat (second times rose by up to a third, as the engine compiles the code
    // better while it runs), the other teams' best, with its margin.
    const again = (sizes) => sizes.filter((size) => {
      const others = Object.entries(speeds).filter(([other]) => Number(other) !== size).map(([, speed]) => speed);
      return times[size] === 1 && speeds[size] * 4 / 3 > Math.max(...others) * margin(size);
    });
    // two measures two workers again, on the warmest code, while another team would be chosen and
    // two have not been measured more times than it (their first time is the page's first, on the
    // coldest code): it can only raise their figure. In WebKit, two measured right after a worker
    // alone (whose code the engine then compiles further, on the same cores) once measured at most
    // 291 images/s in two tries, against 455 alone, where two then train at about 620.
    const two = async () => {
      while (fastest() !== 2 && times[2] <= times[fastest()]) if (!(await measure([2]))) return false;
      return true;
    };
    // The teams first, on the workers started with the page, then a worker alone, on the last
    // worker, which alone then starts afresh (renew): WebAssembly memory never shrinks, and a
    // worker alone's share of the batch is the largest (without, a tab with two workers peaked at
    // 506 MB). The others keep their code warm: WebKit compiles the code again in every fresh
    // worker while it runs, for seconds (two workers' steps took 200–300 ms for about 3 s, then
    // 100–105), so two workers, measured first, measure low there (WebKit: 230 images/s, 571
    // the second time), and the others' second times are weighed against two's own. WebKit,
    // which reports 4 cores on any machine with fewer than 8, measured three workers at 142–430
    // images/s on two cores, against 420–600 for one or two, each time in 1.0–1.8 s.
    const teams = [...new Set([2, this.count])];
    if (!(await measure([...teams, 1])) || !(await two())) return false;
    if (!(await measure(again([...teams.filter((size) => size !== 2).reverse(), 1]))) || !(await two())) return false;
    const team = fastest();
    this.measured = { team, speeds, at: new Date().toISOString() };
    try {
      localStorage.setItem(this.teamKey(), JSON.stringify(this.measured));
    } catch {} // no storage: measured again next time
    this.chosen = team;
    this.emit('team', this.measured);
    // The workers the team leaves idle, the one that measured alone among them, end. Otherwise
    // that one, which keeps a worker alone's memory, starts afresh, and the run waits for it.
    // Either once no configuration is on its way to the workers (inTurn); a Stop pressed while
    // it waited for its turn stops the run all the same.
    const changed = await this.inTurn(() => (team < this.count ? this.shrink(team) : this.renew(alone, true)));
    return changed && !measuring.stopped;
  }

  /**
   * prepare chooses the team (chooseTeam) once MNIST is loaded, before any Train, while the
   * student reads the page: the first run then starts at once (it took 1 to 6 s, WebKit's
   * longest). It holds the browser's training lock meanwhile, if it is free; if not, or if the
   * choice is stopped (settle), the first Train chooses.
   */
  prepare() {
    if (this.chosen || this.choosing || !this.workers) return;
    const choosing = withLock(trainingLock, (lock) => (lock ? this.chooseTeam() : false), { ifAvailable: true })
      .catch(() => false) // a worker that fails ends the team, which says so ('failed')
      .finally(() => {
        if (this.choosing === choosing) this.choosing = null;
      });
    this.choosing = choosing;
  }

  // settle stops prepare's choice, if under way, and waits for it to end: a worker that measures
  // refuses what needs it idle (evaluate, importWeights).
  async settle() {
    if (!this.choosing) return;
    this.stop().catch(() => {}); // between two measurements no worker has a run: no-run
    await this.choosing;
  }

  /**
   * shrink ends the workers from n on, which the chosen team leaves idle: each would hold its
   * memory for the page's life (WebKit, which reports 4 cores on any machine with fewer than 8,
   * starts three on two cores, and the third held 20 MB of WebAssembly memory). The others join a
   * team of n. It resolves with false when Stop was pressed meanwhile, as renew does.
   */
  async shrink(n) {
    const shrinking = { stopped: false, resolve() {}, reject() {} }; // no worker is to be ready
    this.renewing = shrinking;
    try {
      this.workers.shrink(n);
      this.given.ports.slice(n).forEach((p) => p?.close());
      this.given.ports.length = Math.min(this.given.ports.length, n);
      await Promise.all(this.join());
    } finally {
      this.renewing = null;
    }
    return !shrinking.stopped;
  }

  /**
   * renew replaces worker i with a fresh one, given the same place in the team, settings and
   * data. WebAssembly memory never shrinks, so a worker keeps the memory of the largest share of
   * a batch it ever trained: about 95 MB for a worker alone at batch 64, where a worker of two
   * needs about 75. chooseTeam renews the worker that measured alone. The compiled main.wasm is
   * kept, so this takes a second or less (but WebKit compiles the code again in a fresh worker
   * while it runs: its steps run slow for about 3 s). Every worker joins again (Go drops what the
   * worker replaced had sent); with wait, it resolves once the fresh worker is ready too, else
   * once the others have joined (a worker the run leaves idle need not be ready for it). It
   * resolves with false when Stop was pressed meanwhile (no run is under way then for it to stop).
   */
  async renew(i, wait) {
    const { given } = this;
    const renewing = { stopped: false };
    const ready = new Promise((resolve, reject) => Object.assign(renewing, { resolve, reject }));
    this.renewing = renewing;
    this.workers.replace(i);
    const joined = this.join();
    const fresh = (async () => {
      try {
        await ready;
        await joined[i];
        if (given.settings !== null) await this.ask(i, 'configure', [given.settings]);
        if (given.data) await this.ask(i, 'loadData', ...this.dataFor(i));
      } finally {
        this.renewing = null;
      }
    })();
    if (!wait) fresh.catch(() => {}); // a failure ends the team, which says so ('failed')
    await Promise.all(wait ? [...joined, fresh] : joined.filter((_, j) => j !== i));
    return !renewing.stopped;
  }

  // teamKey is where localStorage keeps the team chosen for this browser, machine and team size
  // (slots).
  teamKey() {
    return `mnist-trainer.team:${this.slots}:${navigator.hardwareConcurrency}:${navigator.userAgent}`;
  }

  // runAll runs op (train or measure) as a numbered run on the team's workers, a list of worker
  // numbers (the others would only answer idle), and answers with the first one's reply once all
  // have ended. If one fails, the others would wait for its sums forever: they are aborted, and
  // the first error is the answer.
  async runAll(op, options, team) {
    const run = ++this.runNumber;
    let first = null;
    const replies = team.map((i) => {
      const reply = this.ask(i, op, [{ ...options, run }]);
      const entry = { worker: i, settled: reply.then(() => 'resolved', (err) => `rejected: ${err.message}`) };
      this.runs.add(entry);
      entry.settled.then(() => this.runs.delete(entry));
      return reply.catch((err) => {
        if (!first) {
          first = err;
          if (this.count > 1 && !this.failing) this.abort(run, `worker ${i + 1} of ${this.count} failed: ${err.message}`, i);
        }
        throw err;
      });
    });
    const results = await Promise.allSettled(replies);
    if (first) throw first;
    return results[0].value;
  }

  // abort ends run on every worker but except, telling them why (its train rejects with code aborted).
  abort(run, error, except) {
    for (let i = 0; i < this.count; i++) if (i !== except) this.ask(i, 'abort', [{ run, error }]).catch(() => {});
  }

  // endRuns, once worker i has failed, aborts the others' runs and gives them abortWait to end: it
  // resolves with how each ended.
  async endRuns(i, message) {
    const runs = [...this.runs].filter((r) => r.worker !== i);
    this.abort(this.runNumber, message, i);
    const others = await Promise.race([
      Promise.all(runs.map((r) => r.settled)),
      new Promise((resolve) => setTimeout(resolve, abortWait)),
    ]);
    return others || runs.map(() => `no answer within ${abortWait} ms`);
  }

  // ---- The current model (worker 0) ---------------------------------------------------------

  /** evaluate evaluates the current model on the first testImages test images (0: all). → TestResult */
  async evaluate(testImages) {
    await this.settle();
    return this.ask(0, 'evaluate', [{ testImages }]);
  }

  /** cellDigits: the test images of true digit label predicted as predicted in the latest evaluation. → {count, indices, images} */
  cellDigits(label, predicted, limit) {
    return this.ask(0, 'cellDigits', [label, predicted, limit]);
  }

  /** kernels: the current model's conv kernels. → KernelLayer[] */
  kernels() {
    return this.ask(0, 'kernels');
  }

  /** featureMaps: what the current model makes of source, a test image {index} or a Drawing (moved). → {index, label, input, layers} */
  featureMaps(source) {
    return this.ask(0, 'featureMaps', [source], source.pixels ? [source.pixels.buffer] : []);
  }

  /**
   * inspect: the kernels and feature maps of source (as featureMaps) by the model of a stored run,
   * key, whose weights (moved) are needed only the first time: without them, a key whose model is
   * not loaded rejects with code no-model. → {kernels, features}
   */
  inspect(key, weights, source) {
    return this.ask(0, 'inspect', [{ key, weights }, source], [weights?.buffer, source.pixels?.buffer].filter(Boolean));
  }

  /** predict: the current model's probabilities for a Drawing (moved). → {probabilities, input} */
  predict(drawing) {
    return this.ask(0, 'predict', [drawing], [drawing.pixels.buffer]);
  }

  /** exportWeights: the current model as a safetensors file. → Uint8Array */
  exportWeights() {
    return this.ask(0, 'exportWeights');
  }

  /** importWeights makes the weights file bytes (moved) the current model, unless its network differs in a locked setting ({key: text}). → {values, summary} */
  async importWeights(bytes, locked) {
    await this.settle();
    return this.ask(0, 'importWeights', [bytes, { locked }], [bytes.buffer]);
  }

  // ---- My digits (worker 0; mydigits.js) -----------------------------------------------------

  /** evaluateDigits tests the current model on My digits, a DigitSet {images, labels}. → DigitsResult */
  evaluateDigits(set) {
    return this.ask(0, 'evaluateDigits', [{ images: set.images, labels: set.labels }]);
  }

  /** exportDigits writes a DigitSet as the two gzipped IDX files MNIST comes in. → {files: [{name, data}]} */
  exportDigits(set) {
    return this.ask(0, 'exportDigits', [{ images: set.images, labels: set.labels }]);
  }

  /** importDigits reads an images file and its labels file, [{name, data}] (moved), in either order. → {images, labels, count} */
  importDigits(files) {
    return this.ask(0, 'importDigits', [files], files.map((f) => f.data.buffer));
  }

  // ---- For the browser tests ------------------------------------------------------------------

  /** memory: each worker's WebAssembly memory in bytes. → number[] */
  memory() {
    return Promise.all(Array.from({ length: this.count }, (_, i) => this.ask(i, 'memory').then((m) => m.wasmBytes)));
  }

  /**
   * crash makes worker i fail: how is 'throw' (its script throws), 'panic' (Go panics) or 'oom' (Go
   * runs out of memory). The failure then ends the team ('failed'); the reply may never come.
   */
  crash(i, how = 'throw') {
    this.ask(i, 'crash', [`crash of worker ${i + 1} requested by a test`, how]).catch(() => {});
  }
}
