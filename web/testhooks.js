// window.__mnist: a read-only view of the page for the browser tests and the benchmark
// (serve/browser_*_test.go, browsers/*.mjs). Nothing on the page reads it.
import { quickSettings } from './configuration.js';
import { recordTest } from './store.js';

/**
 * exposeTestHooks defines window.__mnist:
 * - chart: the data the loss chart draws;
 * - offline: whether the page runs from the service worker's copy; snapshot: the service
 *   worker's answer to this visit's snapshot ({ok, error}), once it has given one; keeping: how
 *   far the page got in asking for it (offline.js);
 * - wasmSection(name): the text of main.wasm's custom section name, or null (which main.wasm runs);
 * - timings: ms since the page started loading: ready, downloaded, loaded, train (the click),
 *   measured (the team chosen, when the run measured it), started (the run under way on its
 *   team), firstProgress, ended (its last step and evaluation done); and cachedFiles, how many
 *   MNIST files came from Cache Storage;
 * - quick: what Quick run settings sets (configuration.js, quickSettings), by URL key;
 * - workers: the team's size; team: {training, measured, relaunched, respawned}, how many
 *   workers train, what was measured to choose them (null before), how many times the workers
 *   were started again because one did not start, and how many times a worker renew started
 *   afresh was, for the same reason; failure: how the team ended ({worker, message, others});
 * - memory(): each worker's WebAssembly memory in bytes; crashWorker(i, how): makes worker i
 *   fail, how 'throw', 'panic' or 'oom' (team.js);
 * - runs: the Runs list: each run's id, name, status, test accuracy, whether it is kept, why not,
 *   and its weights' {bytes, problem}; current: the id of the current run;
 * - weightsSHA256(id): the SHA-256 (hex) of a run's weights file, as Export weights would save it:
 *   the engines' tests compare the runs of the same settings bit for bit;
 * - compare: the comparison, {series (each one's name and points), rows, figures}; queue: the
 *   experiments' queue, {remaining, done, running}, or null;
 * - digits: My digits, {count, counts (per digit), rows ({id, label, kept, mark}: its reading in
 *   the latest test, or null), tested (how many the latest test was of)};
 * - overflows(): what does not fit the window, in words (none: []).
 */
export function exposeTestHooks({ state, team, chart, recorder, library, offline, timings, compiled, myDigits }) {
  window.__mnist = Object.freeze({
    get chart() {
      return structuredClone(chart.data);
    },
    get offline() {
      return state.offline;
    },
    wasmSection: async (name) => {
      const [section] = WebAssembly.Module.customSections((await compiled()).module, name);
      return section ? new TextDecoder().decode(section) : null;
    },
    get snapshot() {
      return offline.snapshot;
    },
    get keeping() {
      return offline.keeping;
    },
    get timings() {
      return { ...timings };
    },
    quick: quickSettings,
    get workers() {
      return team.count;
    },
    get team() {
      return { training: team.active, measured: team.measured && structuredClone(team.measured), relaunched: team.relaunched, respawned: team.respawned };
    },
    get failure() {
      return team.failure;
    },
    memory: () => team.memory(),
    get runs() {
      return recorder.rows.map((r) => ({ id: r.id, name: r.name, status: r.record?.status ?? '', accuracy: r.record && recordTest(r.record) ? recordTest(r.record).accuracy : null, kept: r.kept, problem: r.problem, weights: r.record?.weights ?? null }));
    },
    get current() {
      return state.currentRunId;
    },
    weightsSHA256: async (id) => {
      const digest = await crypto.subtle.digest('SHA-256', await recorder.weightsOf(id));
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    get compare() {
      return library.view().compare;
    },
    get queue() {
      return library.view().queue;
    },
    crashWorker: (i, how) => team.crash(i, how),
    get digits() {
      return myDigits.view();
    },
    overflows,
  });
}

// tables are the tables that sit in a scroll box (.table-scroll), which must not need scrolling.
const tables = ['#report', '#confusion', '#summary'];

/**
 * overflows lists what does not fit the window, in words: the page wider than it, a panel wider
 * inside than its box, one of tables whose scroll box would need scrolling, and text cut short
 * where it is clipped (an ellipsis or hidden overflow), such as a figure in the Train panel's
 * stats. The Runs list may scroll inside its panel (seven columns of names and dates), and form
 * controls scroll their own text.
 */
function overflows() {
  const out = [];
  const wider = (el) => el.scrollWidth > el.clientWidth + 1;
  const root = document.documentElement;
  if (wider(root)) out.push(`the page: ${root.scrollWidth} px in ${root.clientWidth}`);
  for (const panel of document.querySelectorAll('.panel')) {
    if (!panel.hidden && wider(panel)) out.push(`${panel.dataset.panel}: ${panel.scrollWidth} px in ${panel.clientWidth}`);
  }
  for (const sel of tables) {
    const box = document.querySelector(sel)?.closest('.table-scroll');
    if (box && wider(box)) out.push(`${sel}: ${box.scrollWidth} px in ${box.clientWidth}`);
  }
  for (const el of document.querySelectorAll('body *')) {
    if (el.matches('input, select, textarea') || el.clientWidth <= 1 || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const clips = style.textOverflow === 'ellipsis' || style.overflowX === 'hidden' || style.overflowX === 'clip';
    if (clips && wider(el)) out.push(`${el.id ? `#${el.id}` : el.className || el.tagName}: "${el.textContent.trim().slice(0, 40)}" cut at ${el.clientWidth} px of ${el.scrollWidth}`);
  }
  return out;
}
