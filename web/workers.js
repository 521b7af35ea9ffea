// The team's Web Workers (worker.js) and the messages to and from them: the envelope of
// protocol.md ("Requests and replies"), but none of the operations, which team.js alone knows. It
// starts the workers and hands them main.wasm, numbers each request and settles it with its reply,
// passes the workers' events on, and ends them all when one fails.
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
    this.workers = [];
    for (let i = 0; i < count; i++) {
      try {
        this.workers.push(this.spawn(i));
      } catch (err) {
        this.workers.forEach((w) => w.terminate());
        throw new Error(`The trainer’s workers could not start: ${err.message}`);
      }
    }
    this.boot(this.workers);
  }

  // spawn starts worker i.
  spawn(i) {
    // A URL of its own for each worker: WebKit (2.50) fetches a script that several workers
    // share once, and only the first worker is then controlled by the service worker, so
    // offline the others could not load wasm_exec.js. sw.js keeps worker.js by its path.
    const w = new Worker(`worker.js?n=${i + 1}`, { name: `worker ${i + 1} of ${this.count}` });
    w.onmessage = (e) => this.receive(i, e.data);
    // A script that cannot be fetched fires an error without a message.
    w.onerror = (e) => {
      e.preventDefault();
      this.fail(i, e.message || 'its script (worker.js) could not be loaded or run');
    };
    return w;
  }

  // boot hands workers main.wasm, once compiled, and gives them startWait to say ready.
  boot(workers) {
    this.module.then(
      (m) => {
        if (this.dead) return;
        workers.forEach((w) => w.postMessage({ module: m }));
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
   * replace ends worker i and starts a fresh one in its place; its requests still pending fail.
   * on.event's 'ready' comes again once it is ready. The team must join again (Team.renew): the
   * others' MessagePorts led to the worker replaced.
   */
  replace(i) {
    this.workers[i].terminate();
    this.rejectPending(i, `Worker ${i + 1} was replaced by a fresh one.`);
    if (this.isReady[i]) this.readyCount--;
    this.isReady[i] = false;
    this.workers[i] = this.spawn(i);
    this.boot([this.workers[i]]);
  }

  receive(i, m) {
    if (m.peer !== undefined) {
      this.relay(i, m.peer, m.sum);
      return;
    }
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

  // relay passes a sum of worker i on to worker j, moving its vector (protocol.md, "Sums between
  // workers"): a step's gradients go through the page, which is faster than a MessagePort between
  // two workers in Firefox (worker.js, relayPorts).
  relay(i, j, sum) {
    if (!Number.isInteger(j) || j < 0 || j >= this.count || j === i) {
      this.fail(i, `it sent a sum to worker ${j}, which is not another worker of its team`);
      return;
    }
    if (this.dead) return; // the team has ended: the sum is of a run that has too
    this.workers[j].postMessage({ peer: i, sum }, sum && sum.v instanceof ArrayBuffer ? [sum.v] : []);
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
    this.workers.forEach((w) => w.terminate());
    for (const p of this.pending.values()) p.reject(new CodedError('worker-failed', message));
    this.pending.clear();
  }
}
