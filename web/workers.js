// The team's Web Workers (worker.js) and the messages to and from them: the envelope of
// protocol.md ("Requests and replies"), but none of the operations, which team.js alone knows. It
// starts worker 0, which starts the others, and hands it main.wasm; numbers each request and
// settles it with its reply, passes the workers' events on, and ends them all when one fails.
import { CodedError } from './errors.js';

// ms a worker gets to say ready once main.wasm is compiled (WebKit on 2 cores takes 3 s); one
// that says nothing by then (its script hangs, or Go does not start) fails the team.
const startWait = 60000;

// ms each worker that worker 0 starts gets to say alive (its script runs; Go has not started)
// once worker 0 has: `new Worker` returns at once, and a script's first line runs within a second
// even in WebKit on a busy machine. Firefox 153 now and then blocks a worker for good in `new
// Worker` (worker 0 in 2 of 40 reloads of the page, in a loop) or never runs a nested worker's
// script; a fresh team, started at once, starts. So a team not alive by then is started again,
// up to relaunches times before it is first ready; the last try has startWait. A worker that
// replace started afresh (renew's) is started afresh again, as many times, before it fails the
// team: a CI run's Firefox never ran renew's worker, and the team that die then started lost the
// Train pressed meanwhile.
const aliveWait = 5000;
const relaunches = 2;

export class Workers {
  /**
   * count: how many. module: a Promise of the compiled main.wasm, which every worker instantiates.
   * on.event(message): worker 0's events (protocol.md), and 'ready' once every worker is.
   * on.failing(i, message): worker i has failed; it resolves, before the workers are terminated,
   *   with how the others' runs ended (failure.others, for the tests).
   * on.failed(message, unstarted, stuck): once, when a worker has failed and every worker has been
   *   terminated; unstarted when a fresh worker did not start (watch), which a fresh team may;
   *   stuck when the team never got ready after every relaunch, which a reload of the page may
   *   fix (Startup.die).
   */
  constructor(count, module, on) {
    this.count = count;
    this.on = on;
    this.dead = ''; // why the workers cannot go on, once they cannot
    this.failing = false;
    this.failure = null; // {worker, message, others}
    this.pending = new Map(); // request id -> {resolve, reject, worker, moved}
    // The requests to workers not yet ready, {i, id, op, args}: before the team was first ready,
    // for relaunch; after, to a worker replace started, for respawn.
    this.asked = [];
    this.nextId = 1;
    this.readyCount = 0;
    this.isReady = new Array(count).fill(false);
    this.wasReady = false; // every worker has been ready once
    this.isAlive = new Array(count).fill(false);
    this.relaunched = 0; // how many times the team was started again (aliveWait)
    this.respawned = 0; // how many times a worker replace started was started afresh again (aliveWait)
    this.respawns = new Array(count).fill(0); // of worker i, since replace
    this.startTimer = 0;
    this.aliveTimer = 0;
    this.module = module;
    this.launch();
  }

  // launch starts the workers and hands worker 0 main.wasm once compiled.
  launch() {
    this.moduleGiven = false; // worker 0 has main.wasm
    this.workers = [];
    for (let i = 0; i < this.count; i++) {
      try {
        this.workers.push(this.spawn(i));
      } catch (err) {
        this.workers.forEach((w) => w.terminate());
        throw new Error(`The trainer’s workers could not start: ${err.message}`);
      }
    }
    // Worker 0 gets twice aliveWait, its script's download included (Firefox once never ran it,
    // in a frame, and failed it a minute later); the others aliveWait from its alive on.
    this.watch(2 * aliveWait);
    this.boot();
  }

  // relaunch ends the workers and starts fresh ones, before the team was first ready (watch), and
  // asks them what the others were asked (askAgain).
  relaunch(why) {
    console.warn(`${why}: the trainer’s workers start again`);
    this.relaunched++;
    clearTimeout(this.startTimer);
    this.workers.forEach((w) => w.terminate());
    this.isReady.fill(false);
    this.isAlive.fill(false);
    this.readyCount = 0;
    try {
      this.launch();
    } catch (err) {
      this.fail(0, err.message);
      return;
    }
    this.askAgain(() => true, `The trainer’s workers started again (${why}).`);
  }

  // askAgain asks the workers started afresh (started(i)) what the ones they replaced were asked
  // (asked), in order (Team's join, and what came since): the answers to requests answered already
  // are dropped. Their requests still pending that moved buffers fail with message: the buffers
  // went to the workers ended.
  askAgain(started, message) {
    for (const [id, p] of this.pending) {
      if (started(p.worker) && p.moved) {
        this.pending.delete(id);
        p.reject(new CodedError('worker-failed', message));
      }
    }
    for (const { i, id, op, args } of this.asked) if (started(i)) this.workers[i].postMessage({ id, op, args });
  }

  // watch gives the workers wait to say alive (see aliveWait): at launch worker 0 too. Before
  // the team was first ready, one that does not gets the team started again, up to relaunches
  // times; after, a worker that replace started is started afresh again as many times (respawn),
  // and then fails the team.
  watch(wait = aliveWait) {
    clearTimeout(this.aliveTimer);
    this.aliveTimer = setTimeout(() => {
      const i = this.isAlive.indexOf(false);
      if (i < 0 || this.dead || this.failing) return;
      const why = `worker ${i + 1} of ${this.count} did not start within ${wait / 1000} s`;
      if (this.wasReady) {
        if (this.respawns[i] < relaunches) this.respawn(i, why);
        else this.fail(i, `it did not start within ${wait / 1000} s, ${relaunches + 1} times`, true);
      } else if (this.relaunched < relaunches) this.relaunch(why);
      // The last try waits for startWait.
    }, wait);
  }

  // respawn starts worker i afresh again, in place of the one replace started, which never said
  // alive, and asks it what that one was asked (askAgain).
  respawn(i, why) {
    console.warn(`${why}: it starts again`);
    this.respawned++;
    this.respawns[i]++;
    this.workers[i].terminate();
    this.workers[i] = this.spawn(i);
    this.askAgain((j) => j === i, `Worker ${i + 1} started again (${why}).`);
    this.watch();
  }

  // spawn starts worker i: the page starts worker 0, and worker 0 the others (worker.js, spawn),
  // each with a MessagePort to the page for the page's requests, its replies and its events. It
  // returns what the page posts to it and ends it with: {postMessage, terminate}.
  spawn(i) {
    const name = `worker ${i + 1} of ${this.count}`;
    if (i > 0) {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = (e) => this.receive(i, e.data);
      this.workers[0].postMessage({ spawn: i, name, page: port2 }, [port2]);
      // It ends with worker 0 (terminate), or when worker 0 starts another in its place (replace).
      return { postMessage: (m, transfer) => port1.postMessage(m, transfer), terminate: () => port1.close() };
    }
    // A URL of its own for each worker: WebKit (2.50) fetches a script that several workers
    // share once, and only the first worker is then controlled by the service worker, so
    // offline the others could not load wasm_exec.js. sw.js keeps worker.js by its path.
    const w = new Worker(`worker.js?n=${i + 1}`, { name });
    // A worker 0 that relaunch replaced is not heard.
    w.onmessage = (e) => this.workers[0] === w && this.receive(i, e.data);
    // A script that cannot be fetched fires an error without a message.
    w.onerror = (e) => {
      e.preventDefault();
      if (this.workers[0] === w) this.fail(i, e.message || 'its script (worker.js) could not be loaded or run');
    };
    return w;
  }

  // boot hands worker 0 main.wasm, once compiled (it hands it on to the others), and gives the
  // workers started startWait to say ready.
  boot() {
    this.module.then(
      (m) => {
        if (this.dead) return;
        if (!this.moduleGiven) this.workers[0].postMessage({ module: m });
        this.moduleGiven = true;
        clearTimeout(this.startTimer);
        this.startTimer = setTimeout(() => {
          const i = this.isReady.indexOf(false);
          if (i >= 0) this.fail(i, `it did not start within ${startWait / 1000} s of main.wasm being compiled`);
        }, startWait);
      },
      (err) => this.fail(0, `main.wasm could not be loaded: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`),
    );
  }

  /**
   * replace starts a fresh worker i in the place of the one there (not worker 0, which started
   * it), which worker 0 then ends; its requests still pending fail. on.event's 'ready' comes again
   * once it is ready. The team must join again (Team.renew).
   */
  replace(i) {
    if (i < 1) throw new Error('worker 0 cannot be replaced: it started the others');
    this.workers[i].terminate();
    this.rejectPending(i, `Worker ${i + 1} was replaced by a fresh one.`);
    if (this.isReady[i]) this.readyCount--;
    this.isReady[i] = false;
    this.isAlive[i] = false;
    this.respawns[i] = 0;
    this.asked = this.asked.filter((a) => a.i !== i);
    this.workers[i] = this.spawn(i);
    this.watch();
    this.boot();
  }

  /**
   * shrink ends the workers from n on (n ≥ 1), which worker 0 started; their requests still
   * pending fail. The team must join again (Team.shrink).
   */
  shrink(n) {
    for (let i = n; i < this.count; i++) {
      this.workers[i].terminate();
      this.workers[0].postMessage({ end: i });
      this.rejectPending(i, `Worker ${i + 1} was ended: the team chosen leaves it idle.`);
    }
    this.workers.length = Math.min(this.workers.length, n);
    this.isReady.length = Math.min(this.isReady.length, n);
    this.isAlive.length = Math.min(this.isAlive.length, n);
    this.respawns.length = Math.min(this.respawns.length, n);
    this.readyCount = this.isReady.filter(Boolean).length;
    this.count = Math.min(this.count, n);
  }

  receive(i, m) {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new CodedError(m.code || 'failed', m.error, m.key || ''));
      return;
    }
    switch (m.event) {
      case 'fatal':
        this.fail(i, m.error);
        return;
      case 'child-error': // from worker 0: a worker it started
        this.fail(m.worker, m.message);
        return;
      case 'alive':
        this.isAlive[i] = true;
        if (i === 0) {
          if (this.count > 1) this.watch();
          else clearTimeout(this.aliveTimer);
        }
        return;
      case 'ready':
        if (i === 0) this.info = m.info;
        this.isReady[i] = true;
        if (this.wasReady) this.asked = this.asked.filter((a) => a.i !== i); // respawn's, once replace's worker is ready
        if (++this.readyCount === this.count) {
          this.wasReady = true;
          this.asked = [];
          clearTimeout(this.startTimer);
          this.on.event({ event: 'ready', info: this.info });
        }
        return;
    }
    if (i === 0) this.on.event(m);
  }

  // ask sends the request op(args) to worker i and returns a Promise of its value; transfer lists
  // what moves to the worker instead of being copied.
  ask(i, op, args = [], transfer = []) {
    if (this.dead) return Promise.reject(new CodedError('worker-failed', this.dead));
    const id = this.nextId++;
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: i, moved: transfer.length > 0 });
    });
    // What moved cannot be asked again (relaunch, respawn).
    if ((!this.wasReady || !this.isReady[i]) && !transfer.length) this.asked.push({ i, id, op, args });
    this.workers[i].postMessage({ id, op, args }, transfer);
    return promise;
  }

  // fail ends the workers after worker i failed (its script threw, or Go exited): the team cannot
  // go on without it. Its requests fail at once; the others' runs are first ended (on.failing),
  // so that none is left waiting in a sum, and then every worker is terminated.
  async fail(i, reason, unstarted = false) {
    if (this.failing || this.dead) return;
    this.failing = true;
    const message = this.count > 1 ? `Worker ${i + 1} of ${this.count} failed: ${reason}` : `The trainer failed: ${reason}`;
    this.rejectPending(i, message);
    const others = await this.on.failing(i, message);
    this.failure = { worker: i, message, others };
    this.terminate(message);
    this.on.failed(message, unstarted, !this.wasReady && this.relaunched === relaunches);
  }

  // rejectPending fails worker i's requests still pending with message (code worker-failed).
  rejectPending(i, message) {
    for (const [id, p] of this.pending) {
      if (p.worker === i) {
        this.pending.delete(id);
        p.reject(new CodedError('worker-failed', message));
      }
    }
  }

  // terminate ends every worker; requests still pending fail with message.
  terminate(message) {
    this.dead = message;
    clearTimeout(this.startTimer);
    clearTimeout(this.aliveTimer);
    this.workers.forEach((w) => w.terminate()); // worker 0's ends every worker it started
    for (const p of this.pending.values()) p.reject(new CodedError('worker-failed', message));
    this.pending.clear();
  }
}
