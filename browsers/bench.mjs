// make bench, in Firefox and WebKit: the figures pagetest/browser_bench_test.go measures in Chromium,
// with the same names, as JSON lines with an engine field. A benchmark, not a test:
//
//	go build -o /tmp/serve ./serve && MNIST_SERVE=/tmp/serve xvfb-run -a node browsers/bench.mjs
//
// For each engine, a fresh browser per configuration, as on a first visit: the time until the
// workers are ready and until MNIST is loaded, the images/s after 30 s of training with the team
// the page picks (it measures which is fastest once MNIST is loaded, and the first Train waits
// for it, within those 30 s) and with one worker, each worker's WebAssembly memory, and the quick
// run (its settings in web/configuration.js: 6,400 images, the loss and the test accuracy on
// 1,000) from the click on Train until the page says Finished: pressed at once (the team's
// measurement included), and pressed once the page has chosen its team, as by a student who
// reads the page for a few seconds first, and then once more in the same page.
import os from 'node:os';
import { FirefoxPage, WebKitPage } from './drivers.mjs';
import { startServer } from './harness.mjs';
import { quickRun } from './scenarios.mjs';

const trainSeconds = 30;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const date = new Date().toISOString().slice(0, 10);

function emit(engine, figure, value, unit, batch, workers) {
  const line = { figure, value: Math.round(value * 100) / 100, unit, batch: batch || undefined, workers: workers || undefined,
    backend: `wasm (${engine === 'firefox' ? 'Firefox' : 'WebKit'})`, engine, cpus: os.cpus().length, date };
  console.log(JSON.stringify(line));
}

// timedQuickRun is quickRun, saying when its time includes a restart of the workers (scenarios.mjs, lost).
async function timedQuickRun(page, engine) {
  const r = await quickRun(page);
  if (r.lost) console.error(`${engine}: this quick run's time includes a restart of the workers, after: ${r.lost}`);
  return r;
}

async function ready(page, url) {
  await page.goto(url);
  await page.poll(`window.__mnist && window.__mnist.timings.loaded !== undefined && /^Ready/.test(document.querySelector('#status').textContent)
    || document.querySelector('#status').classList.contains('error')`, 120000, 'the page to say Ready');
  const status = await page.eval(`document.querySelector('#status').textContent`);
  if (!status.startsWith('Ready')) throw new Error(`the page did not get ready: ${status}`);
}

// measure opens the page with query in a fresh browser and emits what it measures there: the
// quick run with quick ('now': pressed at once; 'chosen': once the team is chosen).
async function measure(engine, open, origin, query, quick) {
  const page = await open();
  try {
    await ready(page, `${origin}/${query}`);
    let { timings, workers } = await page.eval(`({timings: window.__mnist.timings, workers: window.__mnist.workers})`);
    if (quick === 'chosen') {
      if (workers > 1) { // one worker: nothing to choose
        await page.poll('window.__mnist.team.measured !== null', 60000, 'the team to be chosen');
        const ms = (await page.eval('performance.now()')) - timings.loaded;
        console.error(`${engine}: the team chosen ${(ms / 1000).toFixed(1)} s after MNIST was loaded`);
        emit(engine, 'browser_team_chosen_after_loaded_ms', ms, 'ms', 64, workers);
      }
      const r = await timedQuickRun(page, engine);
      console.error(`${engine}, ${r.workers} workers: the quick run, pressed once the team was chosen, took ${(r.ms / 1000).toFixed(1)} s: ${r.status}`);
      emit(engine, 'browser_quick_run_chosen_seconds', r.ms / 1000, 's', 64, r.workers);
      // And again in the same page: a student's next run (as pagetest/browser_bench_test.go).
      const again = await timedQuickRun(page, engine);
      console.error(`${engine}: the quick run again took ${(again.ms / 1000).toFixed(1)} s: ${again.status}`);
      emit(engine, 'browser_quick_run_again_seconds', again.ms / 1000, 's', 64, again.workers);
      return r.workers;
    }
    if (quick) {
      const r = await timedQuickRun(page, engine);
      const accuracy = Number(/Test accuracy ([\d.]+)%/.exec(r.status)?.[1]);
      const team = await page.eval('window.__mnist.team');
      if (team.measured) console.error(`${engine}, quick run: measured ${JSON.stringify(team.measured.speeds)} images/s by team size; chose ${team.training}`);
      console.error(`${engine}, ${r.workers} workers: the quick run took ${(r.ms / 1000).toFixed(1)} s: ${r.status}`);
      emit(engine, 'browser_quick_run_seconds', r.ms / 1000, 's', 64, r.workers);
      emit(engine, 'browser_quick_run_accuracy_pct', accuracy, '%', 64, r.workers);
      // Where its time went, as pagetest/browser_bench_test.go says it for Chromium.
      const t = r.timings;
      if (t.measured !== undefined) emit(engine, 'browser_team_measure_ms', t.measured - t.train, 'ms', 64, r.workers);
      console.error(`${engine}, quick run: the team chosen and started after ${((t.started - t.train) / 1000).toFixed(1)} s, ` +
        `its first step after ${((t.firstProgress - t.started) / 1000).toFixed(1)} s more, the rest ${((t.ended - t.firstProgress) / 1000).toFixed(1)} s`);
      return r.workers;
    }
    emit(engine, 'browser_workers_ready_ms', timings.ready, 'ms', 0, workers);
    emit(engine, 'browser_mnist_loaded_ms', timings.loaded, 'ms', 0, workers);
    await page.click('#train');
    await sleep(trainSeconds * 1000);
    const speed = await page.eval(`document.querySelector('#stat-speed').textContent`); // "2,208 img/s"
    const team = await page.eval('window.__mnist.team'); // without workers=, the team the page measured as fastest
    if (team.measured) console.error(`${engine}: measured ${JSON.stringify(team.measured.speeds)} images/s by team size; chose ${team.training}`);
    workers = team.training;
    await page.click('#stop');
    await page.poll(`!document.querySelector('#train').disabled`, 60000, 'the run to stop');
    console.error(`${engine}, ${workers} workers: ${speed} after ${trainSeconds} s`);
    emit(engine, 'browser_train_images_per_sec', parseFloat(speed.replaceAll(',', '')), 'images/s', 64, workers);
    const memory = await page.eval(`window.__mnist.memory().then((m) => m.map((b) => b / 1e6))`);
    emit(engine, 'browser_worker_wasm_memory_training_mb', Math.max(...memory), 'MB', 64, workers);
    return workers;
  } finally {
    await page.close();
  }
}

const server = await startServer();
try {
  for (const [engine, driver] of [['firefox', FirefoxPage], ['webkit', WebKitPage]]) {
    const team = await measure(engine, driver.open, server.origin, '', false);
    if (team > 1) await measure(engine, driver.open, server.origin, '?workers=1', false);
    await measure(engine, driver.open, server.origin, '', 'now');
    await measure(engine, driver.open, server.origin, '', 'chosen');
  }
} finally {
  server.stop();
}
