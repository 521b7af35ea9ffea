// Start-up: the page reads its URL (workers, panels, lock and the settings), starts the team, and
// once the workers say ready configures them and loads MNIST: downloaded once and kept in Cache
// Storage (datacache.js), checked and unpacked by Go. A team that fails is replaced on Restart.
// It announces, as CustomEvents: started, the first time the workers are ready; loaded
// {train, test} once MNIST is loaded and the page says Ready; load-failed {code, message}.
import { loadFiles } from './datacache.js';
import { download } from './download.js';
import { quoted } from './format.js';
import { TrainingImages } from './trainset.js';
import { sentence } from './util.js';

const $ = (id) => document.getElementById(id);

const mnistBytes = 11594722; // the four files, for messages before the workers say

// maxWorkers caps the team: every batch is cut into 4 virtual shards whatever the team (Go's
// model.VirtualShards), and each worker takes one at least, so that any team computes the same
// bits. It is also where the default team stops: each worker holds its own copy of the network.
const maxWorkers = 4;

// reloadOnce reloads the page, unless it reloaded itself in the last ten minutes (a loop
// otherwise, where the failure does not pass): it answers whether it did.
function reloadOnce() {
  const key = 'mnist-trainer.reloaded';
  try {
    if (Date.now() - Number(sessionStorage.getItem(key) || 0) < 10 * 60000) return false;
    sessionStorage.setItem(key, String(Date.now()));
  } catch {
    return false; // no storage to guard a loop with
  }
  location.reload();
  return true;
}

export class Startup extends EventTarget {
  // params: the page's URL parameters; timings: ms since the page started loading, for the tests.
  constructor({ state, team, form, config, offline, params, timings }) {
    super();
    Object.assign(this, { state, team, form, config, offline, params, timings });
    // The team that trains is chosen by measurement in this browser (team.js), unless the URL
    // says how many workers to use.
    this.measure = params.get('workers') === null;
    // MNIST once loaded, kept for a restart: the training images (TrainingImages), which the workers ask
    // for a batch at a time (trainset.js), and the other three files, name -> bytes.
    this.mnist = null;
    this.restartedAlone = false; // die started a new team by itself
    this.lostRun = ''; // why the run under way when die started a new team did not train, for sayReady
    this.readyText = ''; // the Ready status last said, and MNIST's counts in it (sayReady)
    this.readyCounts = null;
    team.addEventListener('ready', ({ detail }) => this.ready(detail.info));
    team.addEventListener('failed', ({ detail }) => this.die(detail));
    // Once the team is chosen before any Train (team.prepare), Ready says which, if it still shows.
    team.addEventListener('team', () => {
      if (this.readyText && state.status.text === this.readyText) this.sayReady(this.readyCounts);
    });
    $('retry').addEventListener('click', () => this.loadData(true));
    $('restart').addEventListener('click', () => this.restart('Restarting the trainer…'));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** start shows the panels the URL asks for and starts the team; a bad value stops the page, and the status says why. */
  start() {
    try {
      this.showPanels();
      this.team.start(this.workerCount(), this.measure);
    } catch (err) {
      this.state.say(err.message, 'error');
    }
  }

  // workerCount is the team's size: one per core but one, which the page keeps for drawing and
  // input (with every core training, a busy machine delayed the page by seconds), up to
  // maxWorkers; but two on two cores, where one worker would leave half the machine idle: there
  // two trained 1.4 times as fast as one (BENCHMARKS.md) and the page stayed responsive (the
  // browser test's event-loop check). Or the URL's workers=N.
  workerCount() {
    const text = this.params.get('workers');
    const cores = navigator.hardwareConcurrency || 1;
    if (text === null) return Math.max(1, Math.min(cores, 2), Math.min(cores - 1, maxWorkers));
    const n = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || n < 1 || n > maxWorkers) {
      throw new Error(`workers: ${quoted(text)} must be a whole number from 1 to ${maxWorkers} (1: a single worker).`);
    }
    return n;
  }

  // showPanels: ?panels=train,loss shows only those, under a compact header, for embedding part of
  // the page. An unknown name stops the page, as a bad workers value does, rather than leave it blank.
  showPanels() {
    const text = this.params.get('panels');
    if (!text) return;
    const sections = [...document.querySelectorAll('[data-panel]')];
    const known = sections.map((s) => s.dataset.panel);
    const wanted = new Set(text.split(',').map((s) => s.trim()).filter((s) => s));
    for (const name of wanted) {
      if (!known.includes(name)) throw new Error(`panels: ${quoted(name)} is not a panel; the panels are ${known.join(', ')}.`);
    }
    document.body.classList.add('embedded');
    // The comparison shows once runs are compared.
    for (const section of sections) section.hidden = !wanted.has(section.dataset.panel) || section.dataset.panel === 'compare';
    this.state.set({ panels: wanted });
  }

  // ready: the workers run. The first time, the form is built and configured from the URL; after a
  // restart, the settings are as the student left them.
  async ready(info) {
    const { state, form, config, params } = this;
    this.timings.ready = Math.round(performance.now());
    const restart = state.info !== null;
    state.set({ info, ready: true });
    if (restart) {
      await config.configure(form.values(), false);
    } else {
      form.build(info);
      if (params.has('test-images')) form.control('test-images').value = params.get('test-images');
      if (!(await config.configure(location.search, true))) {
        // Show what the URL asked for, so the student sees the value to fix.
        for (const [key, value] of params) if (form.control(key)) form.control(key).value = value;
      } else if (params.has('test-images')) {
        config.testImages(); // shows a bad value
      }
      state.set({ urlProblem: state.refusal?.message ?? '' });
      try {
        form.lock(form.lockKeys(params.get('lock')), state.values);
      } catch (err) {
        state.set({ urlProblem: err.message }); // Train refuses until the page is opened with a good lock
        state.say(`Check the settings: ${err.message}`, 'error');
      }
    }
    state.set({ model: state.model + 1 }); // the figures of the model the workers start with
    if (!restart) this.emit('started');
    this.loadData(false);
  }

  // sayReady says the page is ready, with MNIST's counts r ({train, test}) and the team that
  // trains.
  sayReady(r) {
    const { team } = this;
    const workers = team.slots === 1 ? '' : team.chosen ? ` Training uses ${team.chosen > 1 ? `${team.chosen} workers` : 'one worker'}.` :
      ` Training uses up to ${team.count} workers: how many train fastest in this browser is being measured (a few seconds).`;
    this.readyText = `Ready: ${r.train.toLocaleString('en')} training and ${r.test.toLocaleString('en')} test images, checked.${workers} Press Train.`;
    this.readyCounts = r;
    // A Train pressed before die started this team is not lost without a word: Ready says once
    // that the run did not train, and why, before the student presses Train again.
    this.state.say(this.lostRun ? `${this.lostRun} ${this.readyText}` : this.readyText);
    this.lostRun = '';
  }

  // restart starts a new team of the same slots, saying text meanwhile: Restart's, or die's own.
  restart(text) {
    $('restart').hidden = true;
    this.state.say(text, 'busy');
    this.team.start(this.team.slots, this.measure);
  }

  // die shows why the team ended ({message, unstarted, stuck}: Team's failed), and offers to
  // start a new one. When a fresh worker did not start, nor either of its starts again (renew's:
  // Firefox 153 now and then blocks a worker for good as it starts one, workers.js), a new team
  // starts at once, once a page, and its Ready says that a run under way did not train; when
  // a team never got ready, nor either relaunch, the page reloads, once in ten minutes.
  die({ message, unstarted, stuck }) {
    const training = this.state.training;
    this.state.set({ training: false, ready: false, loaded: false });
    // Firefox 153 now and then runs no worker of a team, nor of either relaunch, where a reload
    // of the page gets ready at once (4 first visits in 80 here; BENCHMARKS.md).
    if (stuck && reloadOnce()) {
      this.state.say(`${sentence(message)} The page reloads to start the trainer again…`, 'busy');
      return;
    }
    if (unstarted && !this.restartedAlone) {
      this.restartedAlone = true;
      if (training) this.lostRun = `The run did not train: ${sentence(message)} The trainer started again.`;
      this.restart(`${sentence(message)} The trainer starts again…`);
      return;
    }
    this.state.say(`${sentence(message)} Press Restart to start the trainer again.`, 'error');
    $('restart').hidden = false;
  }

  showDownload(loaded, total) {
    const bar = $('download');
    bar.max = total;
    bar.value = loaded;
    const mb = (n) => (n / 1e6).toFixed(1);
    $('download-text').textContent = `${mb(loaded)} / ${mb(total)} MB`;
  }

  // showDownloading shows or hides the download's progress bar.
  showDownloading(shown) {
    $('download').hidden = !shown;
    $('download-text').hidden = !shown;
  }

  // loadData downloads MNIST once and gives every worker a copy, which Go checks (size, SHA-256)
  // and parses; again downloads it afresh. Nothing is trained on unless all four files pass.
  async loadData(again) {
    const { state, team, timings } = this;
    const info = state.info;
    $('retry').hidden = true;
    this.showDownloading(true);
    state.say(`Downloading the MNIST digits (${(mnistBytes / 1e6).toFixed(1)} MB)…`, 'busy');
    let files;
    try {
      let images;
      if (this.mnist && !again) {
        ({ files, images } = this.mnist);
      } else {
        const onProgress = (loaded, total) => this.showDownload(loaded, total);
        const r = await loadFiles(info.files, (files, again) => download(files, { again, onProgress }), again);
        files = r.files;
        timings.cachedFiles = r.cached;
      }
      timings.downloaded = Math.round(performance.now());
      state.say('Checking and unpacking the MNIST digits…', 'busy');
      if (!images) {
        // Worker 0 checks and unpacks the training images, and the page keeps them for all.
        const name = info.files.find((f) => f.trainImages).name;
        images = new TrainingImages(await team.unpackImages(files[name]));
        files = { ...files };
        delete files[name];
      }
      const r = await team.loadData(files, images);
      this.mnist = { files, images };
      state.set({ loaded: true, trainImages: r.train });
      timings.loaded = Math.round(performance.now());
      const problem = state.refusal?.message || state.urlProblem;
      if (problem) {
        state.say(`Check the settings: ${problem}`, 'error'); // the URL's, still to fix
      } else {
        this.sayReady(r);
      }
      // Which team trains fastest is measured now, while the student reads, not at the first Train.
      team.prepare();
      this.emit('loaded', r);
      window.mnistBoot?.ready(); // from now on the page says itself what goes wrong (boot.js)
      this.offline.keep();
      this.showDownloading(false);
    } catch (err) {
      if (team.failing) return;
      // Go's errors name the file: "t10k-labels-idx1-ubyte.gz corrupted: SHA-256 is …".
      state.say(files ? `Could not load MNIST: ${err.message}` : err.message, 'error');
      this.emit('load-failed', { code: err.code || 'failed', message: state.status.text });
      this.showDownloading(false);
      $('retry').hidden = false;
    }
  }
}
