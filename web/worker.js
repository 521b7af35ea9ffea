// The trainer's Web Worker: it runs main.wasm (the Go code in wasm/) off the page's main thread,
// fetches the MNIST files, and relays between the page and Go. The messages it exchanges with the
// page are specified in protocol.md; keep the two in step.
'use strict';

importScripts('wasm_exec.js');

let api = null; // the Go functions, once Go has registered them (see wasm/wasm_js.go)
let info = null; // {fields, presets, files} from Go

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

async function start() {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch('main.wasm'), go.importObject);
  // go.run resolves only when the Go program exits, which it should never do: do not await it.
  go.run(instance).then(() => fatal('The trainer stopped unexpectedly. Reload the page to start again.'));
  const result = await goReady;
  if (result.error) throw new Error(result.error);
  api = result.api;
  info = result.info;
  post({ event: 'ready', info });
}

// loadData downloads the four MNIST files, reporting progress, and hands them to Go, which checks
// their size and SHA-256 before parsing. A retry (again true) bypasses the HTTP cache, in case it
// holds a damaged copy.
async function loadData(again) {
  const total = info.files.reduce((sum, f) => sum + f.size, 0);
  const loaded = {};
  let lastPost = 0;
  const report = (force) => {
    const now = performance.now();
    if (!force && now - lastPost < 100) return;
    lastPost = now;
    const sum = Object.values(loaded).reduce((a, b) => a + b, 0);
    post({ event: 'download', loaded: sum, total });
  };
  const download = async (file) => {
    let response;
    try {
      response = await fetch('data/' + file.name, { cache: again ? 'reload' : 'default' });
    } catch (err) {
      throw new Error(`Could not download ${file.name}: ${err.message}`);
    }
    if (!response.ok) {
      throw new Error(`Could not download ${file.name}: the server answered ${response.status} ${response.statusText}`);
    }
    const reader = response.body.getReader();
    const chunks = [];
    loaded[file.name] = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded[file.name] += value.length;
      report(false);
    }
    const bytes = new Uint8Array(loaded[file.name]);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return [file.name, bytes];
  };
  const files = Object.fromEntries(await Promise.all(info.files.map(download)));
  report(true);
  return api.loadData(files);
}

async function handle(op, args) {
  if (!api) throw new Error('The trainer is not running.');
  switch (op) {
    case 'loadData':
      return loadData(Boolean(args[0]));
    case 'train':
      return api.train(args[0] || {}, (event) => post({ event: event.type, ...event }));
    default:
      if (typeof api[op] !== 'function') throw new Error(`Unknown operation ${op}.`);
      return api[op](...args);
  }
}

let starting = true;
const early = []; // requests that came before start settled

self.onmessage = async (e) => {
  if (starting) {
    early.push(e);
    return;
  }
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

start()
  .catch(fatal)
  .finally(() => {
    starting = false;
    early.splice(0).forEach((e) => self.onmessage(e));
  });
