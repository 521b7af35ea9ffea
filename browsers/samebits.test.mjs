// The same settings give the same numbers in every engine: the quick run in Chromium here, against
// the quick runs the Firefox and WebKit suites kept ($MNIST_RESULTS/<engine>.json, written by
// scenarios.mjs). Each engine picks its own team (WebKit 3 workers on 2 cores, the others 2), so
// this also checks teams of different sizes against each other. Every step's loss, the loss after
// the epoch, the report and the weights file must be the same, bit for bit.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ChromiumPage } from './drivers.mjs';
import { startServer } from './harness.mjs';
import { quickRun } from './scenarios.mjs';

test('the quick run gives the same bits in Chromium, Firefox and WebKit', { timeout: 10 * 60 * 1000 }, async (t) => {
  const dir = process.env.MNIST_RESULTS;
  assert.ok(dir, 'MNIST_RESULTS is not set: run the engine tests with scripts/browsers.sh');
  const server = await startServer();
  const page = await ChromiumPage.open();
  let chromium;
  try {
    await page.goto(`${server.origin}/`);
    await page.poll(`window.__mnist && window.__mnist.timings.loaded !== undefined && /^Ready/.test(document.querySelector('#status').textContent)
      || document.querySelector('#status').classList.contains('error')`, 90000, 'the page to say Ready');
    chromium = await quickRun(page);
  } finally {
    await page.close();
    server.stop();
  }
  const runs = [chromium];
  for (const engine of ['firefox', 'webkit']) {
    const file = path.join(dir, `${engine}.json`);
    assert.ok(existsSync(file), `${engine}'s quick run did not finish, so there is nothing to compare (${file})`);
    runs.push(JSON.parse(readFileSync(file, 'utf8')));
  }
  for (const r of runs) {
    const accuracy = /Test accuracy [\d.]+%/.exec(r.status)?.[0] ?? r.status;
    t.diagnostic(`${r.engine}, ${r.workers} workers: last step's loss ${r.loss.at(-1)}, loss after the epoch ${r.epochs[0].loss}, ${accuracy}, weights SHA-256 ${r.sha256.slice(0, 16)}…`);
  }
  for (const r of runs.slice(1)) {
    assert.equal(r.loss.length, chromium.loss.length, `${r.engine}: ${r.loss.length} steps, Chromium ${chromium.loss.length}`);
    const step = r.loss.findIndex((l, i) => l !== chromium.loss[i]);
    assert.equal(step, -1, `${r.engine} (${r.workers} workers) and Chromium (${chromium.workers}) part at step ${step + 1}: loss ${r.loss[step]} against ${chromium.loss[step]}`);
    assert.deepEqual(r.epochs, chromium.epochs, `${r.engine}: the loss after the epoch differs from Chromium's`);
    assert.deepEqual(r.report, chromium.report, `${r.engine}: the report differs from Chromium's`);
    assert.equal(r.sha256, chromium.sha256, `${r.engine}: the weights file differs from Chromium's`);
  }
});
