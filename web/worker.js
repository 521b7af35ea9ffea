// A worker of the page's team: it runs main.wasm (the Go code in wasm/) off the page's main thread
// and relays between the page and Go. The page starts one or several (workers.js); the messages
// are specified in protocol.md: keep the two in step. An error goes back with its code and key
// (protocol.md, "Errors"), as Go gave them.
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
  self.postMessage(message, transfer || []);
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

// relays are this worker's ports to the others of its team, by worker number, once it has joined
// (relayPorts).
const relays = new Map();

// viaPage is the size in bytes from which a sum goes through the page: Go sends vectors that
// large in a buffer kept for them (peers_js.go, spareMin), a step's gradients.
const viaPage = 64 << 10;

// relayPorts gives Go (join) this worker's ports to the others of its team, index of count: on
// worker 0 one to each other worker, on the others one to worker 0, each over channels[k], a
// MessagePort from the page. They act as MessagePorts (postMessage, onmessage, close), but a step's
// gradients go through the page, which passes them on to their worker (protocol.md, "Sums between
// workers"): a MessagePort between two workers took 6.5 ms to carry them there and back in
// Firefox 153 (it copies them, twice), where the page passes them on in 0.1 ms, and a team of two
// trained 15% faster there. The small sums, six a step, stay on the MessagePort: passing each
// on took Chromium's main thread from 1.2–2.2% of a core to 3.5% during training.
function relayPorts({ index, count }, channels) {
  [...relays.values()].forEach((p) => p.close());
  const peers = index === 0 ? Array.from({ length: count - 1 }, (_, i) => i + 1) : [0];
  return peers.map((peer, k) => {
    const channel = channels[k];
    let handler = null;
    const queued = []; // sums that came before Go listened, as a MessagePort keeps them
    const deliver = (sum) => {
      if (handler) handler({ data: sum });
      else queued.push(sum);
    };
    channel.onmessage = (e) => deliver(e.data);
    const port = {
      postMessage(sum, transfer) {
        if (transfer && transfer[0] && transfer[0].byteLength >= viaPage) post({ peer, sum }, transfer);
        else channel.postMessage(sum, transfer);
      },
      get onmessage() {
        return handler;
      },
      set onmessage(f) {
        handler = f;
        while (handler && queued.length) handler({ data: queued.shift() });
      },
      close() {
        if (relays.get(peer) === port) relays.delete(peer);
        channel.close();
      },
      deliver,
    };
    relays.set(peer, port);
    return port;
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
      return api.join(args[0], relayPorts(args[0] || {}, args[1] || []));
    default:
      if (typeof api[op] !== 'function') throw coded('failed', `Unknown operation ${op}.`);
      return api[op](...args);
  }
}

// The page's first message is {module}. Requests may come before it: each waits until Go is
// ready (or has failed to start), and they are handled in the order they came.
let startWith;
const started = new Promise((resolve) => {
  startWith = resolve;
}).then(start).catch(fatal);

self.onmessage = async (e) => {
  if (e.data.peer !== undefined) {
    // A sum from another worker of the team, which the page passed on: at once, in order.
    relays.get(e.data.peer)?.deliver(e.data.sum);
    return;
  }
  if (e.data.module) {
    startWith(e.data.module);
    return;
  }
  await started;
  const { id, op, args } = e.data;
  try {
    const value = await handle(op, args || []);
    if (value instanceof Error) throw value; // Go answers with an Error only if it could not make a Promise
    // Bytes (exported weights) are moved, not copied.
    post({ id, ok: true, value }, value instanceof Uint8Array ? [value.buffer] : []);
  } catch (err) {
    post({ id, ok: false, error: err && err.message ? err.message : String(err), code: (err && err.code) || 'failed', key: (err && err.key) || '' });
  }
};
