// The page's side of protocol.md: a team of trainer Web Workers (worker.js) that train together,
// each on its share of every batch. Worker 0 is the primary: it alone reports progress and serves
// predictions, kernels, feature maps, evaluations and weight files, and takes pause and resume.
// Settings, data, training runs and stop go to every worker.

import { serveImages } from './trainset.js';

const abortWait = 5000; // ms the other workers get to end their run after one fails
// ms a worker gets to say ready once main.wasm is compiled (WebKit on 2 cores takes 3 s); one
// that says nothing by then (its script hangs, or Go does not start) fails the team.
const startWait = 60000;

export class Team {
  // count: how many workers. module: a Promise of the compiled main.wasm, which every worker
  // instantiates. onEvent(message): the events of worker 0 (protocol.md), and 'ready' once every
  // worker is. onFail(message): once, when a worker has failed and the team has ended.
  constructor(count, module, onEvent, onFail) {
    this.count = count;
    this.onEvent = onEvent;
    this.onFail = onFail;
    this.dead = ''; // why the team cannot go on, once it cannot
    this.failing = false;
    this.failure = null; // {worker, message, others}: how the other workers ended, for the tests
    this.pending = new Map(); // request id -> {resolve, reject, worker, op, settled}
    this.nextId = 1;
    this.run = 0; // the number of the latest training run
    this.readyCount = 0;
    this.isReady = new Array(count).fill(false);
    this.startTimer = 0;
    this.workers = [];
    for (let i = 0; i < count; i++) {
      let w;
      try {
        // A URL of its own for each worker: WebKit (2.50) fetches a script that several workers
        // share once, and only the first worker is then controlled by the service worker, so
        // offline the others could not load wasm_exec.js. sw.js keeps worker.js by its path.
        w = new Worker(`worker.js?n=${i + 1}`, { name: `trainer ${i + 1} of ${count}` });
      } catch (err) {
        this.workers.forEach((w) => w.terminate());
        throw new Error(`The trainer’s workers could not start: ${err.message}`);
      }
      w.onmessage = (e) => this.receive(i, e.data);
      // A script that cannot be fetched fires an error without a message.
      w.onerror = (e) => {
        e.preventDefault();
        this.fail(i, e.message || 'its script (worker.js) could not be loaded or run');
      };
      this.workers.push(w);
    }
    module.then(
      (m) => {
        this.workers.forEach((w) => w.postMessage({ module: m }));
        this.startTimer = setTimeout(() => {
          const i = this.isReady.indexOf(false);
          if (i >= 0) this.fail(i, `it did not start within ${startWait / 1000} s of main.wasm being compiled`);
        }, startWait);
      },
      (err) => this.fail(0, `main.wasm could not be loaded: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`),
    );
    // Worker 0 gets a MessagePort to each other worker, for the sums of every step (model.Shard).
    if (count > 1) {
      const ports = [];
      for (let i = 1; i < count; i++) {
        const { port1, port2 } = new MessageChannel();
        ports.push(port1);
        this.ask(i, 'join', [{ index: i, count }, [port2]], [port2]).catch((err) => this.fail(i, err.message));
      }
      this.ask(0, 'join', [{ index: 0, count }, ports], ports).catch((err) => this.fail(0, err.message));
    }
  }

  receive(i, m) {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error), { key: m.key }));
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
          this.onEvent({ event: 'ready', info: this.info });
        }
        return;
    }
    if (i === 0) this.onEvent(m);
  }

  // ask sends one request to worker i and returns a Promise of its value.
  ask(i, op, args = [], transfer = []) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    let entry;
    const promise = new Promise((resolve, reject) => {
      entry = { resolve, reject, worker: i, op };
    });
    entry.settled = promise.then(() => 'resolved', (err) => `rejected: ${err.message}`);
    this.pending.set(id, entry);
    this.workers[i].postMessage({ id, op, args }, transfer);
    return promise;
  }

  // request asks worker 0: predictions, kernels, feature maps, evaluations, weight files.
  request(op, args = [], transfer = []) {
    return this.ask(0, op, args, transfer);
  }

  // all sends the same request to every worker (a copy each) and answers with worker 0's value,
  // or the first error: configure, which every worker must accept.
  async all(op, args = []) {
    const replies = await Promise.allSettled(this.workers.map((_, i) => this.ask(i, op, args)));
    const failed = replies.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replies[0].value;
  }

  // loadData gives every worker the MNIST files but the training images (a copy each), and a
  // MessagePort to pixels, the training images the page keeps once for all (trainset.js); it
  // answers with worker 0's counts, or the first error.
  async loadData(files, pixels) {
    const replies = await Promise.allSettled(this.workers.map((_, i) => {
      const { port1, port2 } = new MessageChannel();
      serveImages(port1, pixels);
      return this.ask(i, 'loadData', [files, { images: port2, count: pixels.length / 784 }], [port2]);
    }));
    const failed = replies.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replies[0].value;
  }

  // control pauses, resumes or stops the run. Pause and resume go to worker 0 alone: the others
  // then wait for its sums, which also leaves their event loops free. (Pausing each worker could
  // deadlock: a worker paused before a step while worker 0, which got its pause a moment later, is
  // already waiting in that step's first sum.) Stop goes to every worker, so that none waits.
  control(op) {
    if (op !== 'stop') return this.request(op);
    const replies = this.workers.map((_, i) => this.ask(i, op));
    replies.slice(1).forEach((p) => p.catch(() => {}));
    return replies[0];
  }

  // train starts a run on every worker and answers with worker 0's reply once all have ended.
  // options.team is how many workers train (the first ones; the others answer at once): the bits
  // are the same whatever it is (protocol.md).
  train(options) {
    return this.onAll('train', options);
  }

  // measure times steps training steps of the configured network by the first team workers, on a
  // model the workers then drop, and answers {imagesPerSec}: trainer.js chooses the team with it.
  measure(team, steps) {
    return this.onAll('measure', { team, steps });
  }

  // onAll runs op (train or measure) as a numbered run on every worker. If one fails, the others
  // would wait for its sums forever: they are aborted, and the first error is the answer.
  async onAll(op, options) {
    const run = ++this.run;
    let first = null;
    const replies = this.workers.map((_, i) => this.ask(i, op, [{ ...options, run }]).catch((err) => {
      if (!first) {
        first = err;
        if (this.count > 1 && !this.failing) this.abort(run, `worker ${i + 1} of ${this.count} failed: ${err.message}`, i);
      }
      throw err;
    }));
    const results = await Promise.allSettled(replies);
    if (first) throw first;
    return results[0].value;
  }

  // abort ends run on every worker but except, telling them why.
  abort(run, message, except) {
    this.workers.forEach((_, i) => {
      if (i !== except && !this.dead) this.ask(i, 'abort', [{ run, error: message }]).catch(() => {});
    });
  }

  // fail ends the team after worker i failed (its script threw, or Go exited): it cannot train
  // without that worker. The others first get their training run aborted, so that none is left
  // waiting in a sum, and then all are terminated.
  async fail(i, reason) {
    if (this.failing || this.dead) return;
    this.failing = true;
    const message = this.count > 1 ? `Worker ${i + 1} of ${this.count} failed: ${reason}` : `The trainer failed: ${reason}`;
    const trains = [...this.pending.values()].filter((p) => p.worker !== i && (p.op === 'train' || p.op === 'measure'));
    for (const [id, p] of this.pending) {
      if (p.worker === i) {
        this.pending.delete(id);
        p.reject(new Error(message));
      }
    }
    this.abort(this.run, message, i);
    const others = await Promise.race([
      Promise.all(trains.map((p) => p.settled)),
      new Promise((resolve) => setTimeout(resolve, abortWait)),
    ]);
    this.failure = { worker: i, message, others: others || trains.map(() => `no answer within ${abortWait} ms`) };
    this.terminate(message);
    this.onFail(message);
  }

  // terminate ends every worker; requests still pending fail with message.
  terminate(message) {
    this.dead = message;
    clearTimeout(this.startTimer);
    this.workers.forEach((w) => w.terminate());
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  // memory returns each worker's WebAssembly memory in bytes.
  async memory() {
    return Promise.all(this.workers.map((_, i) => this.ask(i, 'memory').then((m) => m.wasmBytes)));
  }

  // crash makes worker i fail, for the browser tests: how is 'throw' (its script throws), 'panic'
  // (Go panics) or 'oom' (Go runs out of memory). The failure then reaches onFail; the answer,
  // which the dying worker may never send, does not matter.
  crash(i, how = 'throw') {
    this.ask(i, 'crash', [`crash of worker ${i + 1} requested by a test`, how]).catch(() => {});
  }
}
