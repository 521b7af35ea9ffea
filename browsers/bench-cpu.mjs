// What the page costs WebKit while it trains: the CPU of each thread of WebKitGTK's processes
// (the web process's main thread runs the page; "WebCore: Worker" threads the workers; llvmpipe
// is Mesa's software rendering of the compositor), over the first 8 s of a run and the 20 s after,
// as a share of one core, with the page as it is and with the old pulsing status dot put back;
// each time the page is scrolled to Train first, as a student does (WebKitGTK's own overlay
// scrollbars, which the page's styled ones replace, were then composited for about 6 s:
// style.css). A benchmark, by hand:
//
//	go build -o /tmp/serve ./serve && MNIST_SERVE=/tmp/serve xvfb-run -a node browsers/bench-cpu.mjs
//
// Thread names are /proc's, cut to 15 characters.
import { WebKitPage } from './drivers.mjs';
import { startServer } from './harness.mjs';
import fs from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function procs(name) {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => { try { return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name; } catch { return false; } }).map(Number);
}
function threads(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const key = Number(tid) === pid ? 'main' : comm;
      out[key] = (out[key] || 0) + (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return out;
}
function sample() { const s = {}; for (const n of ['WebKitWebProces', 'WebKitGPUProces', 'WebKitNetworkPr', 'MiniBrowser']) for (const pid of procs(n)) for (const [k, v] of Object.entries(threads(pid))) s[`${n}:${k}`] = (s[`${n}:${k}`] || 0) + v; return s; }
// report prints each thread's CPU from sample a to b, over wall seconds, as a share of one core.
function report(title, a, b, wall) {
  const rows = Object.keys(b).map((k) => [k, (100 * (b[k] - (a[k] || 0))) / wall]).filter(([, v]) => v >= 0.5).sort((x, y) => y[1] - x[1]);
  console.log(`${title} in ${wall.toFixed(0)} s`);
  for (const [k, v] of rows) console.log(`  ${v.toFixed(1).padStart(6)}%  ${k}`);
}
const server = await startServer();
const page = await WebKitPage.open();
try {
  for (const [name, setup] of [['as it is', ''], ['old pulsing dot', `(() => { const s = new CSSStyleSheet(); s.replaceSync('#status.busy::before { animation: pulse 1.2s ease-in-out infinite; } @keyframes pulse { 50% { opacity: 0.25; } }'); document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; return true; })()`]]) {
    await page.goto(`${server.origin}/?epochs=1`);
    await page.poll(`window.__mnist && window.__mnist.timings.loaded !== undefined`, 90000);
    if (setup) await page.eval(setup);
    // A student scrolls to the Train button, as WebDriver's click does where it is out of view.
    await page.eval(`(window.scrollTo(0, 400), document.querySelector('#train').scrollIntoView({block: 'center'}), true)`);
    const start = sample(); const tStart = Date.now();
    await page.click('#train');
    await sleep(8000);
    const a = sample(); const t0 = Date.now(); const s0 = await page.eval('window.__mnist.chart.steps.length');
    report(`${name}, the first 8 s: ${s0} steps`, start, a, (t0 - tStart) / 1000);
    await sleep(20000);
    const b = sample(); const s1 = await page.eval('window.__mnist.chart.steps.length');
    report(`${name}, the 20 s after: ${s1 - s0} steps`, a, b, (Date.now() - t0) / 1000);
    await page.click('#stop');
    await page.poll(`!document.body.classList.contains('training')`, 60000);
  }
} finally { await page.close(); server.stop(); }
