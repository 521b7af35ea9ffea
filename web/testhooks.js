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
 *   the latest test, or null), tested (how many the latest test was of)}.
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
  });
}
