// A trainer Web Worker: it runs main.wasm (the Go code in wasm/) off the page's main thread and
// relays between the page and Go. The page starts one or several (workers.js); the messages are
// specified in protocol.md: keep the two in step.
'use strict';

importScripts('wasm_exec.js');

let api = null; // the Go functions, once Go has registered them (see wasm/wasm_js.go)
let memory = null; // Go's WebAssembly.Memory: the bulk of the worker's memory

// Go calls goReady once its handlers are registered: only then is the worker ready.
const goReady = new Promise((resolve) => {
  self.goReady = resolve;
});

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
  const instance = await WebAssembly.instantiate(module, go.importObject);
  memory = instance.exports.mem;
  // go.run resolves only when the Go program exits, which it should never do: do not await it.
  go.run(instance).then(() => fatal('The trainer stopped unexpectedly.'));
  const result = await goReady;
  if (result.error) throw new Error(result.error);
  api = result.api;
  post({ event: 'ready', info: result.info });
}

async function handle(op, args) {
  switch (op) {
    case 'memory': // how much memory Go's heap has taken: WebAssembly memory never shrinks
      return { wasmBytes: memory ? memory.buffer.byteLength : 0 };
    case 'crash': // for the browser tests: fail as a worker whose script throws
      setTimeout(() => {
        throw new Error(args[0] || 'crash requested');
      });
      return {};
  }
  if (!api) throw new Error('The trainer is not running.');
  switch (op) {
    case 'train':
      return api.train(args[0] || {}, (event) => post({ event: event.type, ...event }));
    default:
      if (typeof api[op] !== 'function') throw new Error(`Unknown operation ${op}.`);
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
    post({ id, ok: false, error: err && err.message ? err.message : String(err), key: err && err.key });
  }
};
