// The page: the wiring of its parts. All the work happens in a team of Web Workers (team.js, the
// one API to them; protocol.md specifies it). The page's state is in one place (state.js), which
// each feature module changes and follows:
// - configuration.js: the settings, sent to the workers as the student changes them;
// - training.js: the run, from Train to its record in the Runs list;
// - inspection.js: what the current model makes of test images and drawings;
// - current.js: the current model, exported, imported, or a stored run's;
// - library.js: the runs kept in this browser, compared, and the notebook's experiments;
// - embedding.js: the host page's link and the Embed dialog;
// - startup.js: the URL, the team's start and restart, and MNIST;
// - offline.js: the service worker's copy of the page;
// - mydigits.js: My digits, the student's own handwriting, tested, mixed into training, exported.
// The panels (settings.js, runs.js, report.js, …) each show what they are given and say what the
// student asked for; they know nothing of workers or of each other.
import './fetched.js'; // first: see boot.js
import { LossChart } from './chart.js';
import { Configuration } from './configuration.js';
import { CurrentModel } from './current.js';
import { Embedding } from './embedding.js';
import { unavailableText } from './features.js';
import { Inspection } from './inspection.js';
import { MyDigits } from './mydigits.js';
import { RunLibrary } from './library.js';
import { Offline } from './offline.js';
import { Recorder } from './recorder.js';
import { SettingsForm } from './settings.js';
import { Startup } from './startup.js';
import { PageState } from './state.js';
import { Team } from './team.js';
import { exposeTestHooks } from './testhooks.js';
import { Training } from './training.js';
import { once } from './util.js';
import { compileWasm } from './wasmload.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const state = new PageState({
  info: null, // what the workers said when ready: {fields, presets, files, maxWeightsBytes, kernels, kernelList, notebookMacs}
  ready: false, // the workers run
  loaded: false, // MNIST is loaded
  training: false, // a run is under way (Train pressed, until it has ended)
  paused: false, // the run under way is paused
  waiting: false, // the run waits for another page's team to end (one trains at a time)
  status: { text: $('status').textContent, kind: '' }, // the status line
  values: null, // the settings the workers last accepted, key -> text
  summary: null, // the configured network's summary (protocol.md, Summary)
  tooLarge: false, // the configured network needs more memory than a tab gives (summary.memory.refusal)
  refusal: null, // the refused setting that stops a run, {code, key, message}, while there is one
  urlProblem: '', // the URL's refused setting, until the student changes one: Train refuses meanwhile
  speed: 0, // images/s measured in the latest run
  speedMacs: 0, // multiply-adds per image of the network that speed was measured on
  runMacs: 0, // the same, of the network being trained
  trainImages: 60000, // in the loaded training set
  currentRunId: '', // the run whose weights worker 0 holds, if they are a recorded run's
  report: null, // the test result shown, {test, text: when it was made}, or {test: null, text: why none}
  model: 0, // counts the changes of worker 0's model: the figures follow it
  panels: null, // the panels the URL asked for (a Set), or null for all
  digits: null, // My digits as a run gets them (protocol.md DigitSet, with their ids), or null (mydigits.js)
  offline: false, // the page runs from the service worker's copy
});
state.watch(['status'], ({ status }) => {
  $('status').textContent = status.text;
  $('status').className = status.kind;
});

// timings: ms since the page started loading, for the tests and the benchmark.
const timings = {};
const offline = new Offline(state);
// main.wasm, compiled once, when the team first starts; each worker instantiates it. A page that
// cannot start (a bad workers or panels value) does not download its 2–12 MB.
const compiled = once(() => offline.follow(compileWasm()));
const team = new Team(() => compiled().then((w) => w.module));

const presetTitle = (name) => state.info?.presets.find((p) => p.name === name)?.title ?? (name ? name : 'Custom');
const recorder = new Recorder(presetTitle);
const form = new SettingsForm($('settings'));
const chart = new LossChart($('chart'));
const config = new Configuration({ state, team, form });
const startup = new Startup({ state, team, form, config, offline, params, timings });
const training = new Training({ state, team, form, config, chart, recorder, timings });
const inspection = new Inspection({ state, team, config });
const myDigits = new MyDigits({ state, team, inspection });
const current = new CurrentModel({ state, team, form, config, chart, recorder });
const library = new RunLibrary({ state, team, form, config, training, current, inspection, recorder, startup, presetTitle });
new Embedding({ state, team, form, config, training, startup, params, myDigits });
exposeTestHooks({ state, team, chart, recorder, library, offline, timings, compiled, myDigits });

// What this browser lacks of what the page can do without, and what that costs (features.js).
$('limits').textContent = unavailableText();
$('limits').hidden = !$('limits').textContent;
startup.start();
