// The team's Web Workers (worker.js) and the messages to and from them: the envelope of
// protocol.md ("Requests and replies"), but none of the operations, which team.js alone knows. It
// starts worker 0, which starts the others, and hands it main.wasm; numbers each request and
// settles it with its reply, passes the workers' events on, and ends them all when one fails.
import { CodedError } from './errors.js';

// ms a worker gets to say ready once main.wasm is compiled (WebKit on 2 cores takes 3 s); one
// that says nothing by then (its script hangs, or Go does not start) fails the team.
const startWait = 60000;

export class Workers {
  /**
   * count: how many. module: a Promise of the compiled main.wasm, which every worker instantiates.
   * on.event(message): worker 0's events (protocol.md), and 'ready' once every worker is.
   * on.failing(i, message): worker i has failed; it resolves, before the workers are terminated,
   *   with how the others' runs ended (failure.others, for the tests).
   * on.failed(message): once, when a worker has failed and every worker has been terminated.
   */
  constructor(count, module, on) {
    this.count = count;
    this.on = on;
    this.dead = ''; // why the workers cannot go on, once they cannot
    this.failing = false;
    this.failure = null; // {worker, message, others}
    this.pending = new Map(); // request id -> {resolve, reject, worker}
    this.nextId = 1;
    this.readyCount = 0;
    this.isReady = new Array(count).fill(false);
    this.startTimer = 0;
    this.module = module;
    this.moduleGiven = false; // worker 0 has main.wasm
    this.workers = [];
    for (let i = 0; i < count; i++) {
      try {
        this.workers.push(this.spawn(i));
      } catch (err) {
        this.workers.forEach((w) => w.terminate());
        throw new Error(`The trainer’s workers could not start: ${err.message}`);
      }
    }
    this.boot();
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
    w.onmessage = (e) => this.receive(i, e.data);
    // A script that cannot be fetched fires an error without a message.
    w.onerror = (e) => {
      e.preventDefault();
      this.fail(i, e.message || 'its script (worker.js) could not be loaded or run');
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
    this.workers[i] = this.spawn(i);
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
      case 'ready':
        if (i === 0) this.info = m.info;
        this.isReady[i] = true;
        if (++this.readyCount === this.count) {
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
      this.pending.set(id, { resolve, reject, worker: i });
    });
    this.workers[i].postMessage({ id, op, args }, transfer);
    return promise;
  }

  // fail ends the workers after worker i failed (its script threw, or Go exited): the team cannot
  // go on without it. Its requests fail at once; the others' runs are first ended (on.failing),
  // so that none is left waiting in a sum, and then every worker is terminated.
  async fail(i, reason) {
    if (this.failing || this.dead) return;
    this.failing = true;
    const message = this.count > 1 ? `Worker ${i + 1} of ${this.count} failed: ${reason}` : `The trainer failed: ${reason}`;
    this.rejectPending(i, message);
    const others = await this.on.failing(i, message);
    this.failure = { worker: i, message, others };
    this.terminate(message);
    this.on.failed(message);
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
    this.workers.forEach((w) => w.terminate()); // worker 0's ends every worker it started
    for (const p of this.pending.values()) p.reject(new CodedError('worker-failed', message));
    this.pending.clear();
  }
}
