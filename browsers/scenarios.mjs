// What every engine is checked on, in one browser session each, as a student would use the page:
// it loads to ready; the quick run trains to its report; a drawn digit gets a prediction; the
// run is kept across a reload; a reload with the server gone opens from the service worker; a bad
// URL parameter is refused with a message; and the trainer works in a frame of another site. No
// step may leave an uncaught error on the page. The quick run is the one long step (about 20 s
// in Firefox, 25 s in WebKit on 2 cores); everything else is a few seconds.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCoursePage, startProxy, startServer } from './harness.mjs';

// tinyRun trains 2 steps of 32 images, then measures the loss on 32 and tests on 50.
const tinyRun = 'train-images=64&batch=32&epochs=1&loss-images=32&test-images=50';

// ready is true once MNIST is loaded and the page says Ready, or the status shows an error.
const readyOrError = `window.__mnist && window.__mnist.timings.loaded !== undefined && /^Ready/.test(document.querySelector('#status').textContent)
  || document.querySelector('#status').classList.contains('error')`;
const status = `document.querySelector('#status').textContent`;

// waitReady waits until page is ready, and fails with the status line if it shows an error.
async function waitReady(page, ms = 90000) {
  await page.poll(readyOrError, ms, 'the page to say Ready');
  const s = await page.eval(status);
  assert.match(s, /^Ready/, `the page did not get ready: ${s}`);
}

async function noErrors(page) {
  assert.deepEqual(await page.errors(), [], 'the page logged uncaught errors');
}

// sevenStroke draws a 7 across the pad: the top bar, then the diagonal down.
const sevenStroke = [[0.25, 0.2], [0.45, 0.2], [0.7, 0.2], [0.62, 0.4], [0.55, 0.6], [0.48, 0.82]];

/**
 * quickRun presses Quick run settings, then Train, on a page that is ready, and resolves with what
 * the run showed: its status line, every step's loss, the loss after the epoch, the report's rows,
 * the Runs list's row, the SHA-256 of its weights file, the team's size, its speed, the page's
 * timings (testhooks.js), how long it took, and lost: the status that said the first Train did
 * not train, when the page restarted its workers meanwhile ('' otherwise).
 */
export async function quickRun(page) {
  await page.click('#quick');
  const quick = await page.eval('window.__mnist.quick');
  const steps = quick['train-images'] / quick.batch;
  await page.poll(`document.querySelector('#estimate').textContent.includes('${steps} steps of ${quick.batch}')`, 10000, 'the quick-run settings');
  // train presses Train and waits for the run to end. It is recorded as finished a moment after
  // the status says so (its weights are kept), and it is a new one in the Runs list: the status
  // says Finished already after an earlier run. Or the page restarted its workers, since a fresh
  // one never started (Firefox's start wedge, workers.js), and says the run did not train (lost:
  // the first Train's, not the second's, whose status says so until the run starts).
  const train = async (lost) => {
    const runs = await page.eval('window.__mnist.runs.length');
    await page.click('#train');
    await page.poll(`${lost} && /^The run did not train/.test(${status}) || window.__mnist.runs.length > ${runs}
      && /^(Finished|Stopped|Training failed)/.test(${status}) && window.__mnist.runs[0].status !== 'training'
      || document.querySelector('#status').classList.contains('error')`, 8 * 60000, 'the run to end');
  };
  const start = Date.now();
  await train(true);
  // Ready then asks for Train again, as a student would press it: once (TestBrowserStart checks
  // that message on its own). lost says why the first Train was lost.
  const lost = await page.eval(`/^The run did not train/.test(${status}) ? ${status} : ''`);
  if (lost) await train(false);
  const ms = Date.now() - start;
  const r = await page.eval(`({status: ${status}, loss: window.__mnist.chart.loss, epochs: window.__mnist.chart.epochs,
    report: [...document.querySelectorAll('#report tbody tr')].map((tr) => tr.textContent),
    run: window.__mnist.runs[0], workers: window.__mnist.team.training, running: window.__mnist.workers,
    speed: document.querySelector('#stat-speed').textContent, timings: window.__mnist.timings})`);
  const sha256 = r.run?.status === 'finished' ? await page.eval(`window.__mnist.weightsSHA256(${JSON.stringify(r.run.id)})`) : '';
  return { ...r, sha256, ms, steps, lost, engine: page.engine };
}

// keepForComparison writes a quick run's result where samebits.test.mjs compares the engines':
// $MNIST_RESULTS/<engine>.json (scripts/browsers.sh sets it).
function keepForComparison(r) {
  const dir = process.env.MNIST_RESULTS;
  if (dir) writeFileSync(path.join(dir, `${r.engine}.json`), JSON.stringify(r));
}

/** engineSuite registers the checks of one engine: open() resolves with a drivers.mjs Page. */
export function engineSuite(name, open) {
  describe(name, { timeout: 15 * 60 * 1000 }, () => {
    let server;
    let proxy;
    let page;
    let runId = '';

    before(async () => {
      server = await startServer();
      proxy = await startProxy(server.origin);
      page = await open();
    });
    after(async () => {
      await page?.close();
      proxy?.stop();
      server?.stop();
    });

    test('loads to ready, and says what this browser lacks', async (t) => {
      const start = Date.now();
      await page.goto(`${proxy.origin}/`);
      await waitReady(page);
      const r = await page.eval(`({timings: window.__mnist.timings, workers: window.__mnist.workers, relaunched: window.__mnist.team.relaunched, language: navigator.language,
        fallback: window.mnistBoot.localeFallback, limits: document.querySelector('#limits').textContent,
        storage: document.querySelector('[data-part="storage"]').textContent})`);
      t.diagnostic(`${name}: workers ready at ${r.timings.ready} ms, MNIST loaded at ${r.timings.loaded} ms (${r.workers} workers, started again ${r.relaunched} times; ${Date.now() - start} ms in all)`);
      t.diagnostic(`${name}: ${r.limits || 'nothing missing'} Runs: ${r.storage}`);
      if (page.engine === 'webkit') {
        // Run in a C locale, where WebKit says "C"; the charts read en-US instead.
        assert.equal(r.fallback, 'C', 'WebKit under a C locale should report the language tag "C"');
        assert.equal(r.language, 'en-US');
        assert.match(r.limits, /the storage estimate/, 'WebKitGTK has no navigator.storage.estimate, and the page should say so');
        assert.match(r.storage, /7 days/, 'the Runs panel should warn that Safari deletes data after 7 days');
      } else {
        assert.equal(r.limits, '', 'this engine has every feature the page looks for');
      }
      await noErrors(page);
    });

    test('the quick run trains to its report', async (t) => {
      const r = await quickRun(page);
      t.diagnostic(`${name}: the quick run took ${(r.ms / 1000).toFixed(0)} s at ${r.speed} with ${r.workers} workers: ${r.status}`);
      if (r.lost) t.diagnostic(`${name}: Train pressed again, after: ${r.lost}`);
      assert.match(r.status, /^Finished: 1 epoch\. Test accuracy/);
      assert.equal(r.loss.length, r.steps, `the chart should have the run’s ${r.steps} steps`);
      assert.ok(r.report.length >= 10, `the report has ${r.report.length} rows, want one per digit and the averages`);
      assert.equal(r.run.status, 'finished');
      assert.ok(r.run.accuracy > 0.8, `test accuracy ${r.run.accuracy} after the quick run; it reaches about 0.91`);
      assert.ok(r.run.kept, `the run is not kept: ${r.run.problem}`);
      // The workers the chosen team leaves idle have ended (WebKit starts three on two cores).
      assert.equal(r.running, r.workers, `${r.running} workers still run, where ${r.workers} train`);
      runId = r.run.id;
      keepForComparison(r);
      await noErrors(page);
    });

    test('a drawn digit gets a prediction', async () => {
      await page.stroke('#pad', sevenStroke);
      await page.poll(`Number(document.querySelector('#probs').dataset.updates) > 0`, 30000, 'a prediction');
      const r = await page.eval(`({guess: document.querySelector('#guess').textContent,
        probs: [...document.querySelectorAll('#probs li')].map((li) => Number(li.dataset.p))})`);
      assert.equal(r.probs.length, 10);
      const sum = r.probs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 0.01, `the probabilities sum to ${sum}`);
      assert.match(r.guess, /\d/, `the guess says ${r.guess}`);
      await noErrors(page);
    });

    test('every panel fits its frame from 360 px up', async (t) => {
      // After the quick run and a prediction every panel holds its figures: the speed, the report,
      // the confusion matrix. Phones, the two-column layout at its narrowest and at 790 px, a small
      // laptop, and the three-column layout, whose Train panel is as narrow.
      const got = [];
      try {
        for (const width of [360, 390, 760, 790, 1024, 1280]) {
          const w = await page.resize(width);
          if (got.includes(w)) continue; // WebKit's narrowest window, again
          got.push(w);
          assert.deepEqual(await page.eval('window.__mnist.overflows()'), [], `at ${w} px, what does not fit`);
        }
      } finally {
        await page.resize(1280);
      }
      t.diagnostic(`${name}: every panel fits at ${got.join(', ')} px`);
      await noErrors(page);
    });

    test('the run is kept across a reload', async () => {
      assert.ok(runId, 'the quick run did not finish');
      await page.reload();
      await waitReady(page);
      await page.poll(`window.__mnist.runs.some((r) => r.id === ${JSON.stringify(runId)} && r.status === 'finished' && r.kept)`, 10000, 'the quick run in the Runs list');
      // The team measured before is kept, and only its workers start.
      const team = await page.eval(`({running: window.__mnist.workers, kept: window.__mnist.team.measured && window.__mnist.team.measured.team})`);
      assert.equal(team.running, team.kept, `${team.running} workers started after a reload, where the team measured before is ${team.kept}`);
      await noErrors(page);
    });

    test('a reload with the server gone opens from the service worker, and says it is offline', async () => {
      await page.poll(`window.__mnist.snapshot && window.__mnist.snapshot.ok`, 30000, 'the service worker to keep this visit');
      proxy.down();
      try {
        await page.reload();
        await waitReady(page);
        assert.equal(await page.eval(`window.__mnist.offline && !document.querySelector('#offline').hidden`), true, 'the page should say it runs offline');
        assert.equal(await page.eval(`window.__mnist.timings.cachedFiles`), 4, 'MNIST should come from Cache Storage');
        await noErrors(page);
      } finally {
        proxy.up();
      }
    });

    test('a bad URL parameter is refused with a message naming it', async () => {
      await page.goto(`${proxy.origin}/?workers=lots`);
      await page.poll(`document.querySelector('#status').classList.contains('error')`, 30000, 'the refusal');
      assert.equal(await page.eval(status), 'workers: "lots" must be a whole number from 1 to 4 (1: a single worker).');
      await noErrors(page);
    });

    test('in a frame of another site it trains and keeps its run, or says what it cannot keep', async (t) => {
      // The frame is the server's own origin, not the proxy's: storage the top-level visits have not used.
      const course = await startCoursePage(`${server.origin}/?${tinyRun}&panels=train,runs,report`);
      try {
        await page.goto(course.url);
        const frame = await page.frame('#trainer');
        await waitReady(frame);
        const note = await frame.eval(`document.querySelector('[data-part="storage"]').textContent`);
        t.diagnostic(`${name} in a frame: ${note}`);
        assert.match(note, /frame of another site/, 'the Runs panel should say a frame’s storage is kept apart');
        // The DOM's click: WebKitWebDriver's element click did not reach a button in the frame.
        await frame.eval(`document.querySelector('#train').click()`);
        await frame.poll(`/^Finished/.test(${status}) && window.__mnist.runs[0].status !== 'training'`, 60000, 'the tiny run to finish and be recorded');
        const [run] = await frame.eval('window.__mnist.runs');
        t.diagnostic(`${name} in a frame: run kept ${run.kept}${run.problem ? ` (${run.problem})` : ''}`);
        assert.ok(run.kept || run.problem, 'a run that is not kept should say why');
        await page.reload();
        const again = await page.frame('#trainer');
        await waitReady(again);
        const r = await again.eval(`({runs: window.__mnist.runs, cached: window.__mnist.timings.cachedFiles, limits: document.querySelector('#limits').textContent})`);
        t.diagnostic(`${name} in a frame, reloaded: ${r.runs.length} runs listed, ${r.cached} MNIST files from Cache Storage`);
        if (run.kept) assert.ok(r.runs.some((x) => x.id === run.id), 'the kept run should be listed after a reload');
        if (!/Cache Storage/.test(r.limits)) assert.equal(r.cached, 4, 'MNIST should come from Cache Storage the second time');
        await noErrors(again);
        await noErrors(page);
      } finally {
        course.stop();
      }
    });
  });
}
