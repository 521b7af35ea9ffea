// The kernels' own benchmarks (kernels/*_test.go: the network's largest products, its pools,
// the element-wise and broadcast passes) in a Web Worker of each engine, the same
// WebAssembly test binary in each: which of our kernels an engine runs slower than another, and
// by how much, where the page's images/s only says that it does. A benchmark, not a test
// (scripts/bench.sh runs it last):
//
//	GOOS=js GOARCH=wasm go test -c -o /tmp/kernels.test.wasm ./kernels
//	KERNELS_TEST=/tmp/kernels.test.wasm xvfb-run -a node browsers/kernelbench.mjs
//
// It prints one JSON line a benchmark and engine (figure "kernel_ns_per_op: <benchmark>", and
// its other metrics: GFLOP/s, Gelem/s), and a table of each engine's time against Chromium's on
// stderr. $KERNELS_BENCHTIME is each benchmark's -test.benchtime (default 400ms); $KERNELS_BENCH
// picks benchmarks, as -test.bench does (default all); $ENGINES picks engines (default
// chromium,firefox,webkit).
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
    w.postMessage({ args: ${JSON.stringify(['-test.run=^$', `-test.bench=${pick}`, `-test.benchtime=${benchtime}`])} });
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
    onmessage = async (e) => {
      try {
        const go = new Go();
        go.argv = ['kernels.test', ...e.data.args];
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

const server = http.createServer((req, res) => {
  const file = files[new URL(req.url, 'http://x').pathname];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' }).end(file[1]);
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
  for (const name of names) {
    const page = await engines[name].open();
    try {
      await page.goto(`${origin}/`);
      const done = await page.poll('window.done', 15 * 60000, 'the benchmarks to end');
      const lines = await page.eval('window.lines');
      if (done.error || done.code) throw new Error(`${name}: ${done.error || `exit code ${done.code}`}\n${lines.join('\n')}`);
      results[name] = {};
      for (const line of lines) {
        const r = parse(line);
        if (!r) continue;
        results[name][r.name] = r.metrics;
        for (const [unit, value] of Object.entries(r.metrics)) {
          const figure = unit === 'ns/op' ? `kernel_ns_per_op: ${r.name}` : `kernel_${unit.replace(/\W/g, '_')}: ${r.name}`;
          console.log(JSON.stringify({ figure, value, unit, backend: `wasm (${name})`, engine: name, cpus: os.cpus().length, date }));
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
