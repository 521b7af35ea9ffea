// A worker of the page's team: it runs main.wasm (the Go code in wasm/) off the page's main thread
// and relays between the page and Go. The page starts worker 0 (workers.js), which starts the
// others of the team (spawn); the messages are specified in protocol.md: keep the two in step. An
// error goes back with its code and key (protocol.md, "Errors"), as Go gave them.
'use strict';

// loadGo loads wasm_exec.js, which defines Go, and keeps the end of what Go writes; if it cannot
// (offline, with no copy in the service worker), the worker says which file.
function loadGo() {
  try {
    importScripts('wasm_exec.js');
  } catch (err) {
    throw new Error(`wasm_exec.js could not be loaded: ${err.message}`);
  }
  const writeSync = globalThis.fs.writeSync;
  globalThis.fs.writeSync = function (fd, buf) {
    goOutput = (goOutput + goDecoder.decode(buf, { stream: true })).slice(-goOutputKept);
    return writeSync.call(this, fd, buf);
  };
}

let api = null; // the Go functions, once Go has registered them (see wasm/wasm_js.go)
let memory = null; // Go's WebAssembly.Memory: the bulk of the worker's memory

// goOutput is the end of what Go has written (to the console, through wasm_exec.js): if Go exits,
// its last panic or fatal error says why.
let goOutput = '';
const goOutputKept = 16384;
const goDecoder = new TextDecoder();
loadGo();

// exitReason says why Go exited with code, in words for the page: out of memory, a panic, or a
// fatal error, with Go's own line.
function exitReason(code) {
  const lines = goOutput.split('\n');
  const line = (re) => lines.find((l) => re.test(l));
  const fatalError = line(/^fatal error: /);
  if (fatalError === 'fatal error: out of memory') {
    const gb = memory ? (memory.buffer.byteLength / 2 ** 30).toFixed(1) : '?';
    const detail = line(/^runtime: out of memory/) || fatalError;
    return `it ran out of memory: its WebAssembly memory could not grow beyond ${gb} GB (${detail}). ` +
      'A smaller batch or fewer filters need less';
  }
  const why = line(/^panic: /) || fatalError;
  return `the Go program stopped${why ? `: ${why}` : ''} (exit code ${code})`;
}

// Go calls goReady once its handlers are registered: only then is the worker ready.
const goReady = new Promise((resolve) => {
  self.goReady = resolve;
});

// coded returns an Error as Go's are: with a code (protocol.md, "Errors").
const coded = (code, message) => Object.assign(new Error(message), { code });

function post(message, transfer) {
  page.postMessage(message, transfer || []);
}

function fatal(error) {
  api = null;
  post({ event: 'fatal', error: String(error && error.message ? error.message : error) });
}

// start runs main.wasm, which the page compiled once for all its workers.
async function start(module) {
  const go = new Go();
  let exitCode = 0;
  const exit = go.exit;
  go.exit = (code) => {
    exitCode = code;
    exit(code);
  };
  const instance = await WebAssembly.instantiate(module, go.importObject);
  memory = instance.exports.mem;
  // go.run resolves only when the Go program exits, which it should never do: do not await it.
  go.run(instance).then(() => fatal(exitReason(exitCode)), fatal);
  const result = await goReady;
  if (result.error) throw new Error(result.error);
  api = result.api;
  post({ event: 'ready', info: result.info });
}

// The team: the page starts worker 0, and worker 0 starts the others as workers of its own
// (nested workers), so that a step's sums go straight from worker to worker. Between workers the
// page started, they could only take a MessagePort or go through the page: WebKit wakes the
// page's main thread several times for every MessagePort message, even between two workers (32%
// of a core for 27,000 wake-ups a second, where a nested worker's messages did not wake it), and
// Firefox copies a moved buffer on a MessagePort twice (6.5 ms to carry a step's gradients there
// and back, 0.04 ms to a nested worker). Each worker worker 0 starts talks to the page over a
// MessagePort of its own (the page's requests, its replies and events), and to worker 0 over
// its own postMessage (the sums).

// page is where this worker's replies and events go: the page itself for worker 0, a MessagePort
// to it for the others (their first message gives it).
let page = self;

// children are the workers worker 0 started, by worker number (the page's spawn).
const children = new Map();

// links are this worker's ports to the others of its team, by worker number: they act as
// MessagePorts for Go (join: postMessage, onmessage, close), over a child's Worker on worker 0 and
// over this worker's own postMessage on the others. A sum that comes before Go listens waits, as
// on a MessagePort, until it does (or is dropped when Go closes the port).
const links = new Map();

function link(peer) {
  if (links.has(peer)) return links.get(peer);
  let handler = null;
  let queued = [];
  const l = {
    postMessage(sum, transfer) {
      if (peer === 0) self.postMessage(sum, transfer);
      else children.get(peer)?.postMessage(sum, transfer);
    },
    get onmessage() {
      return handler;
    },
    set onmessage(f) {
      handler = f;
      while (handler && queued.length) handler({ data: queued.shift() });
    },
    close() {
      handler = null;
      queued = [];
    },
    deliver(sum) {
      if (handler) handler({ data: sum });
      else queued.push(sum);
    },
  };
  links.set(peer, l);
  return l;
}

// teamPorts gives Go (join) this worker's ports to the others of its team, index of count: on
// worker 0 one to each other worker, on the others one to worker 0.
function teamPorts({ index, count }) {
  return index === 0 ? Array.from({ length: count - 1 }, (_, i) => link(i + 1)) : [link(0)];
}

// end ends worker i, which worker 0 started, when the team the page chose leaves it idle; worker
// 0 starts none after that (spawn).
function end(i) {
  children.get(i)?.terminate();
  children.delete(i);
  links.get(i)?.close();
  links.delete(i);
}

// moduleGiven resolves with main.wasm, compiled once by the page: worker 0 gives it to the workers
// it starts.
let giveModule;
const moduleGiven = new Promise((resolve) => {
  giveModule = resolve;
});

// spawn starts worker i for the page (worker 0 alone does): name names it, port leads to the page.
// A script that cannot be fetched or an error the worker does not catch is the page's to hear,
// as {event: 'child-error', worker, message}: the page fails the team.
function spawn(i, name, port) {
  const replaced = children.get(i);
  let w;
  try {
    // A URL of its own for each worker, as the page gives worker 0 (workers.js, spawn).
    w = new Worker(`worker.js?n=${i + 1}`, { name });
  } catch (err) {
    // Nested workers came last in Safari, in 15.5, before the SIMD128 the page needs (16.4).
    post({ event: 'child-error', worker: i, message: `worker 1 could not start it (${err.message}): this browser cannot start a worker from a worker` });
    return;
  }
  // Its first message says it is alive, which it tells the page itself, over its port.
  w.onmessage = (e) => (e.data.event === 'alive' ? undefined : link(i).deliver(e.data));
  w.onerror = (e) => {
    e.preventDefault();
    if (children.get(i) === w) post({ event: 'child-error', worker: i, message: e.message || 'its script (worker.js) could not be loaded or run' });
  };
  children.set(i, w);
  // The worker replaced ends after the fresh one has started: Firefox 153 left a worker blocked
  // for good in `new Worker` when it came soon after that worker had ended one (in 1 of 3 to 40
  // starts, in a loop), as the page's renew would do.
  replaced?.terminate();
  // Its port to the page now, so that it says alive over it while this worker is busy starting
  // Go; main.wasm once compiled.
  w.postMessage({ page: port }, [port]);
  moduleGiven.then((module) => {
    if (children.get(i) === w) w.postMessage({ module });
  });
}

async function handle(op, args) {
  switch (op) {
    case 'memory': // how much memory Go's heap has taken: WebAssembly memory never shrinks
      return { wasmBytes: memory ? memory.buffer.byteLength : 0 };
    case 'crash': // for the browser tests: fail as a broken worker would (protocol.md)
      if ((args[1] || 'throw') === 'throw') {
        setTimeout(() => {
          throw new Error(args[0] || 'crash requested');
        });
        return {};
      }
      break; // Go panics, or runs out of memory
  }
  if (!api) throw coded('not-running', 'The trainer is not running.');
  switch (op) {
    case 'train':
      return api.train(args[0] || {}, (event) => post({ event: event.type, ...event }));
    case 'crash':
      return api.crash(args[1], args[0]);
    case 'join':
      return api.join(args[0], teamPorts(args[0] || {}));
    default:
      if (typeof api[op] !== 'function') throw coded('failed', `Unknown operation ${op}.`);
      return api[op](...args);
  }
}

// Worker 0's first message from the page is {module}; a worker worker 0 starts gets {page:
// MessagePort} from it, then {module}, and then only sums, the page's requests coming over that
// port. Requests may come before the module: each waits until Go is ready (or has failed to
// start), and they are handled in the order they came.
let startWith;
const started = new Promise((resolve) => {
  startWith = resolve;
}).then(start).catch(fatal);

// Each worker says alive as soon as it can take messages, before Go starts: the page starts the
// team again when one does not (workers.js, aliveWait). Worker 0 says it to the page here; the
// others say it here to worker 0, which drops it, and to the page over their port once it comes.
self.postMessage({ event: 'alive' });

self.onmessage = (e) => {
  const m = e.data;
  if (m.spawn !== undefined) {
    spawn(m.spawn, m.name, m.page);
  } else if (m.page) {
    page = m.page;
    page.onmessage = (r) => request(r.data);
    post({ event: 'alive' });
  } else if (m.module) {
    giveModule(m.module);
    startWith(m.module);
  } else if (page !== self) {
    link(0).deliver(m); // a sum from worker 0
  } else if (m.end !== undefined) {
    end(m.end);
  } else {
    request(m);
  }
};

// request handles a request of the page, {id, op, args}, and replies.
async function request({ id, op, args }) {
  await started;
  try {
    const value = await handle(op, args || []);
    if (value instanceof Error) throw value; // Go answers with an Error only if it could not make a Promise
    // Bytes (exported weights) are moved, not copied.
    post({ id, ok: true, value }, value instanceof Uint8Array ? [value.buffer] : []);
  } catch (err) {
    post({ id, ok: false, error: err && err.message ? err.message : String(err), code: (err && err.code) || 'failed', key: (err && err.key) || '' });
  }
}
