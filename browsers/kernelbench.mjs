// The kernels' own benchmarks (kernels/*_test.go: the network's largest products, its pools,
// the element-wise and broadcast passes) in a Web Worker of each engine, the same
// WebAssembly test binary in each: which of our kernels an engine runs slower than another, and
// by how much, where the page's images/s only says that it does. A benchmark, not a test
// (scripts/bench.sh runs it last):
//
//	GOOS=js GOARCH=wasm go test -c -o /tmp/kernels.test.wasm ./kernels
//	KERNELS_TEST=/tmp/kernels.test.wasm xvfb-run -a node browsers/kernelbench.mjs
//
// It runs the model's training steps the same way (model/bench_test.go: a worker alone's step,
// and one worker's of a team of two, without the messages between them), with $MNIST_DIR's four
// files served to the binary as the files of its own MNIST_DIR:
//
//	GOOS=js GOARCH=wasm go test -c -o /tmp/model.test.wasm ./model
//	KERNELS_TEST=/tmp/model.test.wasm KERNELS_BENCH='BenchmarkTrainStep$|BenchmarkShardStep$' \
//	KERNELS_BENCHTIME=100x KERNELS_FIGURE=step MNIST_DIR=$(go run ./cmd/mnistdir) xvfb-run -a node browsers/kernelbench.mjs
//
// It prints one JSON line a benchmark and engine (figure "kernel_ns_per_op: <benchmark>", or
// $KERNELS_FIGURE's word for "kernel", and its other metrics: GFLOP/s, Gelem/s, images/s), and a
// table of each engine's time against Chromium's on stderr. $KERNELS_BENCHTIME is each
// benchmark's -test.benchtime (default 400ms); $KERNELS_BENCH picks benchmarks, as -test.bench
// does (default all); $ENGINES picks engines (default chromium,firefox,webkit).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ChromiumPage, FirefoxPage, WebKitPage } from './drivers.mjs';

const binary = process.env.KERNELS_TEST;
if (!binary) throw new Error('KERNELS_TEST is not set: GOOS=js GOARCH=wasm go test -c -o FILE ./kernels, then KERNELS_TEST=FILE');
const benchtime = process.env.KERNELS_BENCHTIME || '400ms';
const pick = process.env.KERNELS_BENCH || '.';
const engines = { chromium: ChromiumPage, firefox: FirefoxPage, webkit: WebKitPage };
const names = (process.env.ENGINES || 'chromium,firefox,webkit').split(',');
const date = new Date().toISOString().slice(0, 10);
const figure = process.env.KERNELS_FIGURE || 'kernel';
// The MNIST files, by name, that the binary reads from /mnist (its MNIST_DIR): none for the kernels.
const mnistDir = process.env.MNIST_DIR;
const mnist = mnistDir ? ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] : [];

// The loader of the toolchain that built the binary: the two must match.
const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
const files = {
  '/wasm_exec.js': ['text/javascript', readFileSync(path.join(goroot, 'lib/wasm/wasm_exec.js'))],
  '/kernels.test.wasm': ['application/wasm', readFileSync(binary)],
  '/': ['text/html', `<!doctype html><meta charset="utf-8"><title>kernels</title><script>
    window.lines = []; window.done = null;
    const w = new Worker('runner.js');
    w.onmessage = (e) => { if (e.data.line !== undefined) window.lines.push(e.data.line); else window.done = e.data; };
    // Go's timers may still fire once it has exited: wasm_exec.js then throws, harmlessly.
    w.onerror = (e) => { e.preventDefault(); if (!/already exited/.test(e.message)) window.done = { error: e.message || 'the worker failed' }; };
    w.postMessage({ args: ${JSON.stringify(['-test.run=^$', `-test.bench=${pick}`, `-test.benchtime=${benchtime}`])}, env: ${JSON.stringify(mnistDir ? { MNIST_DIR: '/mnist' } : {})} });
  </script>`],
  // The test binary runs as the trainer's workers run main.wasm: in a worker, its output line by line.
  '/runner.js': ['text/javascript', `importScripts('wasm_exec.js');
    const decoder = new TextDecoder();
    let pending = '';
    globalThis.fs.writeSync = (fd, buf) => {
      pending += decoder.decode(buf, { stream: true });
      for (let i; (i = pending.indexOf('\\n')) >= 0; pending = pending.slice(i + 1)) postMessage({ line: pending.slice(0, i) });
      return buf.length;
    };
    // Reading files, for the MNIST files under /mnist: Go's os package in js/wasm calls these
    // (syscall/fs_js.go), and a worker may fetch synchronously. Writing stays refused.
    const files = new Map(); // fd -> {data, at, st}
    let nextFd = 10;
    const missing = () => Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const stat = (p, size) => ({ dev: 0, ino: 0, mode: p === '/mnist' ? 0o40555 : 0o100444, nlink: 1, uid: 0, gid: 0, rdev: 0,
      size, blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, isDirectory: () => p === '/mnist' });
    const get = (p, method) => {
      const x = new XMLHttpRequest();
      x.open(method, p, false);
      if (method === 'GET') x.responseType = 'arraybuffer';
      x.send();
      return x.status === 200 ? x : null;
    };
    Object.assign(globalThis.fs, {
      stat(p, cb) {
        const x = p === '/mnist' ? true : p.startsWith('/mnist/') && get(p, 'HEAD');
        x ? cb(null, stat(p, x === true ? 0 : Number(x.getResponseHeader('Content-Length')))) : cb(missing());
      },
      lstat(p, cb) { globalThis.fs.stat(p, cb); },
      open(p, flags, mode, cb) {
        const x = flags === 0 && p.startsWith('/mnist/') && get(p, 'GET'); // read-only
        if (!x) return cb(missing());
        const data = new Uint8Array(x.response);
        files.set(nextFd, { data, at: 0, st: stat(p, data.length) });
        cb(null, nextFd++);
      },
      fstat(fd, cb) { files.has(fd) ? cb(null, files.get(fd).st) : cb(missing()); },
      read(fd, buffer, offset, length, position, cb) {
        const f = files.get(fd);
        if (!f) return cb(missing());
        const at = position ?? f.at;
        const n = Math.max(0, Math.min(length, f.data.length - at));
        buffer.set(f.data.subarray(at, at + n), offset);
        if (position == null) f.at += n;
        cb(null, n);
      },
      close(fd, cb) { files.delete(fd); cb(null); },
    });
    onmessage = async (e) => {
      try {
        const go = new Go();
        go.argv = ['go.test', ...e.data.args];
        go.env = e.data.env;
        let code = 0;
        const exit = go.exit;
        go.exit = (c) => { code = c; exit(c); };
        const { instance } = await WebAssembly.instantiateStreaming(fetch('kernels.test.wasm'), go.importObject);
        await go.run(instance);
        postMessage({ code });
      } catch (err) {
        postMessage({ error: String(err && err.message || err) });
      }
    };`],
};
for (const name of mnist) files[`/mnist/${name}`] = ['application/octet-stream', readFileSync(path.join(mnistDir, name))];

const server = http.createServer((req, res) => {
  const file = files[new URL(req.url, 'http://x').pathname];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': file[0], 'Content-Length': file[1].length, 'Cache-Control': 'no-store' })
    .end(req.method === 'HEAD' ? undefined : file[1]);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// parse reads a benchmark line: "BenchmarkMatMul/conv2_3136x288x64   48   24512345 ns/op   47.20 GFLOP/s".
function parse(line) {
  const m = /^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$/.exec(line);
  if (!m) return null;
  const metrics = {};
  for (const [, value, unit] of m[3].matchAll(/([\d.e+-]+) (\S+)/g)) metrics[unit] = Number(value);
  return metrics['ns/op'] === undefined ? null : { name: m[1], metrics };
}

const results = {}; // engine -> name -> metrics
try {
  for (const engine of names) {
    const page = await engines[engine].open();
    try {
      await page.goto(`${origin}/`);
      const done = await page.poll('window.done', 15 * 60000, 'the benchmarks to end');
      const lines = await page.eval('window.lines');
      if (done.error || done.code) throw new Error(`${engine}: ${done.error || `exit code ${done.code}`}\n${lines.join('\n')}`);
      results[engine] = {};
      for (const line of lines) {
        const r = parse(line);
        if (!r) continue;
        results[engine][r.name] = r.metrics;
        for (const [unit, value] of Object.entries(r.metrics)) {
          const label = unit === 'ns/op' ? `${figure}_ns_per_op: ${r.name}` : `${figure}_${unit.replace(/\W/g, '_')}: ${r.name}`;
          console.log(JSON.stringify({ figure: label, value, unit, backend: `wasm (${engine})`, engine, cpus: os.cpus().length, date }));
        }
      }
    } finally {
      await page.close();
    }
  }
} finally {
  server.close();
}

// Each engine's time against the first engine's, benchmark by benchmark.
const [base, ...others] = names;
console.error(['benchmark', `${base} ms/op`, ...others.map((o) => `${o} ×`)].join('\t'));
for (const [bench, m] of Object.entries(results[base] || {})) {
  const ratios = others.map((o) => (results[o]?.[bench] ? (results[o][bench]['ns/op'] / m['ns/op']).toFixed(2) : '-'));
  console.error([bench, (m['ns/op'] / 1e6).toFixed(3), ...ratios].join('\t'));
}
