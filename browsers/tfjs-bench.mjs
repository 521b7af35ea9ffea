// make bench, side by side: the project's network trained with TensorFlow.js 4.22's wasm backend
// (XNNPACK, SIMD) in headless Chromium, at batch 64 on real MNIST, with 1 thread and with 2 (the
// threaded build needs cross-origin isolation, which this server grants to ?threads=2 and up),
// then in WebKitGTK's MiniBrowser with 1 thread (it has no SharedArrayBuffer, so no threaded
// build). A benchmark, not a test; WebKit needs an X server:
//
//	xvfb-run -a node browsers/tfjs-bench.mjs   # TFJS_SECONDS=30 by default, TFJS_THREADS=1,2, TFJS_ENGINES=chromium,webkit; TFJS_PROFILE=1 also prints one step's kernels
//
// Prints one JSON line per figure on stdout, as cmd/bench and browsers/bench.mjs do, and the
// variant that ran and the first and last losses on stderr. The page is browsers/tfjs/; this
// script serves it, the TF.js dist files from node_modules and the MNIST training set (read from
// the Go module cache, via go run ./cmd/mnistdir) on 127.0.0.1. The network is written out in
// browsers/tfjs/bench.js with TF.js ops.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { ChromiumPage, WebKitPage } from './drivers.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.TFJS_SECONDS || 30);
const threadCounts = (process.env.TFJS_THREADS || '1,2').split(',').map(Number);
const engines = (process.env.TFJS_ENGINES || 'chromium,webkit').split(',');
const date = new Date().toISOString().slice(0, 10);

// mnist reads the training images (without their 16-byte header) and labels (without their 8).
function mnist() {
  const dir = execFileSync('go', ['run', './cmd/mnistdir'], { cwd: path.join(root, '..'), encoding: 'utf8' }).trim();
  const read = (name, header) => zlib.gunzipSync(fs.readFileSync(path.join(dir, name))).subarray(header);
  return { images: read('train-images-idx3-ubyte.gz', 16), labels: read('train-labels-idx1-ubyte.gz', 8) };
}

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// serve answers the page, tfjs/<dist file> and mnist/{images,labels} on a free port of 127.0.0.1.
// A page asked for with threads > 1 is cross-origin isolated (COOP and COEP), so that the backend
// can share its memory with its threads; every answer may be embedded by a same-origin page.
function serve(data) {
  const dist = {
    // The union bundle, for its gradients (tfjs-core's own bundle registers none); its backends
    // (cpu, webgl) stay unused.
    'tf.min.js': path.join(root, '../node_modules/@tensorflow/tfjs/dist/tf.min.js'),
    'tf-backend-wasm.min.js': path.join(root, '../node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js'),
  };
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    dist[f] = path.join(root, '../node_modules/@tensorflow/tfjs-backend-wasm/dist', f);
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const headers = { 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    let body;
    if (url.pathname === '/' || url.pathname === '/bench.js') {
      const file = url.pathname === '/' ? 'index.html' : 'bench.js';
      body = fs.readFileSync(path.join(root, 'tfjs', file));
      headers['Content-Type'] = types[path.extname(file)];
      if (Number(url.searchParams.get('threads')) > 1) {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      }
    } else if (url.pathname.startsWith('/tfjs/') && dist[url.pathname.slice(6)]) {
      body = fs.readFileSync(dist[url.pathname.slice(6)]);
      headers['Content-Type'] = types[path.extname(url.pathname)];
    } else if (url.pathname === '/mnist/images' || url.pathname === '/mnist/labels') {
      body = data[url.pathname.slice(7)];
      headers['Content-Type'] = 'application/octet-stream';
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, headers).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    origin: `http://127.0.0.1:${server.address().port}`,
    stop: () => server.close(),
  })));
}

// train opens the page in a fresh browser of engine (drivers.mjs: headless Chromium with the Go
// tests' flags, or WebKitGTK's MiniBrowser through WebKitWebDriver) and resolves with what it
// measured, printing any uncaught error the page logged.
async function train(engine, origin, threads) {
  const page = await (engine === 'webkit' ? WebKitPage : ChromiumPage).open();
  try {
    await page.goto(`${origin}/?threads=${threads}&seconds=${seconds}&profile=${process.env.TFJS_PROFILE === '1' ? 1 : 0}`);
    await page.poll('window.__tfjs && window.__tfjs.done', (seconds + 120) * 1000, 'TF.js to finish');
    const { result, error } = await page.eval('window.__tfjs');
    if (error) throw new Error(`${engine}, threads=${threads}: ${error}`);
    return result;
  } finally {
    for (const err of await page.errors().catch(() => [])) console.error(`page: ${err}`);
    await page.close();
  }
}

// runs is every engine's measurements: WebKitGTK has no SharedArrayBuffer, so one thread there.
const runs = engines.flatMap((engine) => (engine === 'webkit' ? [1] : threadCounts).map((threads) => ({ engine, threads })));
const server = await serve(mnist());
try {
  for (const { engine, threads } of runs) {
    const r = await train(engine, server.origin, threads);
    const v = r.variant;
    const first = r.losses[0], last = r.losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, r.losses.length);
    console.error(`tfjs-wasm, ${engine}, threads=${threads}: ${r.steps} steps in ${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(1)} images/s; ` +
      `SIMD ${v.simd}, multithread ${v.multithread} (cross-origin isolated ${v.crossOriginIsolated}, ${v.threads} threads, ${v.workers} worker threads running, ${v.cores} cores); ` +
      `loss ${first.toFixed(3)} at the first step, ${last.toFixed(3)} over the last 10; ${r.tensors} tensors live`);
    if (r.kernels) console.error(`tfjs-wasm, threads=${threads}, one step's kernels (ms): ${r.kernels.map((k) => `${k.name} ${k.ms}`).join(', ')}`);
    if (threads > 1 && !v.multithread) {
      console.error(`tfjs-wasm: the threaded build did not run, so there is no ${threads}-thread figure`);
      continue;
    }
    // The threads field is what XNNPACK reports it uses, not what was asked for: in 4.22 the
    // threaded build may start no threads whatever setThreadsCount says (tensorflow/tfjs#8513).
    if (v.threads < threads) console.error(`tfjs-wasm: asked for ${threads} threads, XNNPACK uses ${v.threads} (tensorflow/tfjs#8513)`);
    const build = v.multithread ? ', threaded build' : '';
    const line = { figure: 'tfjs_train_images_per_sec', value: Math.round(r.imagesPerSec * 10) / 10, unit: 'images/s', batch: 64,
      threads: v.threads, backend: `tfjs-wasm ${v.version} (${v.simd ? 'SIMD' : 'no SIMD'}${build})`, engine, cpus: os.cpus().length, date };
    console.log(JSON.stringify(line));
  }
} finally {
  server.stop();
}
