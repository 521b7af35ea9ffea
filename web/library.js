// The runs kept in this browser, as the page uses them: the Runs panel's list and its actions
// (rename, delete, export, import, make current), the comparison of runs side by side (the
// Compare panel, with each run's kernels and feature maps), and the notebook's experiments, three
// runs and then their comparison (experiments.js). The records themselves are recorder.js's.
import { ComparePanel } from './compare.js';
import { estimatedSpeed, runSeconds } from './estimate.js';
import { Experiments } from './experiments.js';
import { storageAdvice } from './features.js';
import { plural } from './format.js';
import { RunsPanel } from './runs.js';
import { coalesced, saveFile } from './util.js';

const section = (panel) => document.querySelector(`[data-panel="${panel}"]`);

export class RunLibrary {
  // presetTitle(name): a preset's title. current: the CurrentModel; inspection: the Inspection,
  // whose drawing the comparison shows too; training: the Training, which runs the experiments.
  constructor({ state, team, form, config, training, current, inspection, recorder, startup, presetTitle }) {
    Object.assign(this, { state, team, form, config, training, current, inspection, recorder });
    const panel = new RunsPanel(section('runs'));
    this.panel = panel;
    this.comparePanel = new ComparePanel(section('compare'));
    this.experiments = new Experiments({
      run: (name, base, testImages) => {
        form.fill({ ...this.presetSettings(base, name), 'test-images': testImages });
        return training.train();
      },
      // The estimate asks Go for each network's multiply-adds (describe), and scales the measured speed.
      estimate: async (names, base, testImages) => {
        let seconds = 0;
        for (const name of names) {
          const r = await team.describe(this.presetSettings(base, name));
          seconds += runSeconds(state, r.values, testImages, r.summary.macs);
        }
        return { seconds, speed: estimatedSpeed(state, state.info.notebookMacs) };
      },
      title: presetTitle,
      show: () => this.showQueue(),
      done: (ids) => {
        panel.tick(ids);
        panel.message('The notebook’s experiments are done: here they are side by side.', 'ok');
        this.compare(ids);
      },
    });
    this.compareFigures = coalesced(() => this.showFigures());

    recorder.addEventListener('change', () => this.show());
    state.watch(['currentRunId', 'training', 'loaded', 'tooLarge', 'paused'], () => this.show());
    // Once the workers first say ready (the presets' titles known), the stored runs are read.
    startup.addEventListener('started', () => {
      recorder.open().then((problem) => problem && panel.message(problem, 'error'));
      storageAdvice().then((text) => panel.storageNote(text));
    });
    training.addEventListener('record-problem', (e) => panel.message(e.detail.message, 'error'));
    inspection.addEventListener('predicted', () => {
      if (this.comparePanel.source() === 'drawing') this.compareFigures();
    });
    this.comparePanel.section.addEventListener('compare-source', () => this.compareFigures());

    // A run whose record or weights the browser refuses stays listed: the panel says why.
    const on = (type, fn) => panel.section.addEventListener(type, (e) => fn(e.detail));
    on('runs-rename', ({ id, name }) => this.rename(id, name));
    on('runs-delete', ({ id }) => this.delete(id));
    on('runs-clear', () => this.clear());
    on('runs-export', () => this.export());
    on('runs-import', ({ file }) => this.import(file));
    on('runs-activate', ({ id }) => this.makeCurrent(id));
    on('runs-compare', ({ ids }) => this.compare(ids));
    on('runs-experiments', ({ action }) => this.experimentAction(action));
  }

  // show lists the runs, and the experiments' queue.
  show() {
    this.panel.show(this.recorder.rows, { currentId: this.state.currentRunId, training: this.state.training });
    this.showQueue();
  }

  showQueue() {
    const { state } = this;
    const q = this.experiments.queue;
    // The experiments change the architecture: not where the course locked it.
    this.panel.showQueue(q && { ...q, paused: state.paused }, { canTrain: state.loaded && !state.training && !state.tooLarge && !this.form.archLocked });
  }

  async rename(id, name) {
    const problem = await this.recorder.rename(id, name);
    this.panel.message(problem || `Renamed to “${name}”.`, problem ? 'error' : 'ok');
  }

  async delete(id) {
    const name = this.recorder.get(id)?.name;
    try {
      await this.recorder.delete(id);
      if (this.state.currentRunId === id) this.state.set({ currentRunId: '' }); // the model stays, unrecorded
      this.panel.message(`Deleted “${name}”.`, 'ok');
    } catch (err) {
      this.panel.message(`Could not delete “${name}”: ${err.message}.`, 'error');
    }
    this.show();
  }

  async clear() {
    try {
      await this.recorder.clear();
      this.state.set({ currentRunId: '' });
      this.panel.message('Deleted every run.', 'ok');
    } catch (err) {
      this.panel.message(`Could not delete the runs: ${err.message}.`, 'error');
    }
    this.show();
  }

  async export() {
    try {
      const { blob, count } = await this.recorder.export();
      const name = `mnist-runs-${new Date().toISOString().slice(0, 10)}.json`;
      saveFile(blob, name);
      this.panel.message(`Exported ${plural(count, 'run')} as ${name} (${(blob.size / 1e6).toFixed(1)} MB).`, 'ok');
    } catch (err) {
      this.panel.message(`Could not export the runs: ${err.message}.`, 'error');
    }
  }

  async import(file) {
    try {
      const r = await this.recorder.import(file);
      const what = [r.added && `${plural(r.added, 'new run')}`, r.replaced && `${plural(r.replaced, 'run')} replaced`].filter(Boolean).join(', ') || 'no runs';
      this.panel.message(`Imported ${file.name}: ${what}.${r.problems.length ? ` But ${r.problems.join('; ')}.` : ''}`, r.problems.length ? 'error' : 'ok');
    } catch (err) {
      this.panel.message(`Could not import: ${err.message}. The runs are unchanged.`, 'error');
    }
  }

  async makeCurrent(id) {
    const row = this.recorder.get(id);
    if (!row || !row.record || this.state.training) return;
    try {
      await this.current.makeCurrent(row);
    } catch (err) {
      this.panel.message(`Could not make “${row.name}” current: ${err.message}. The current model is unchanged.`, 'error');
      return;
    }
    this.panel.message(`“${row.name}” is current.`, 'ok');
  }

  // compare shows the runs ids side by side.
  compare(ids) {
    const records = ids.map((id) => this.recorder.get(id)?.record).filter(Boolean);
    if (records.length < 2) return;
    if (this.state.panels && !this.state.panels.has('compare')) {
      this.panel.message('This course page shows no comparison (its panels leave out “compare”).', 'error');
      return;
    }
    this.comparePanel.show(records);
    this.comparePanel.section.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.compareFigures();
  }

  // showFigures shows the first kernels and feature maps of each compared run for the chosen
  // image. Go keeps the last few runs' models (inspect) until a run starts, so the weights travel
  // only the first time.
  async showFigures() {
    const { comparePanel, inspection, state } = this;
    if (comparePanel.section.hidden || !state.ready) return;
    const source = comparePanel.source();
    if (source === 'drawing' ? !inspection.hasDrawing : !state.loaded) {
      comparePanel.figuresMessage(source === 'drawing' ? 'Draw a digit on the drawing pad to compare what each network makes of it.' : 'The test images appear once MNIST is loaded.');
      return;
    }
    comparePanel.figuresMessage('');
    const figures = [];
    for (const { record } of comparePanel.runs) {
      const ask = (weights) => this.team.inspect(record.id, weights, source === 'drawing' ? inspection.drawing() : source);
      try {
        figures.push(await ask(null).catch(async (err) => {
          if (err.code !== 'no-model') throw err;
          return ask((await this.recorder.weightsOf(record.id)).slice());
        }));
      } catch (err) {
        figures.push({ problem: `No figures: ${err.message}.` });
      }
    }
    comparePanel.showFigures(figures);
  }

  // presetSettings are base with the architecture of preset name.
  presetSettings(base, name) {
    return { ...base, ...this.form.presetValues(name) };
  }

  // experimentAction does what the Runs panel's queue buttons ask. Pause and Stop act on the run
  // as the Train panel's own buttons do, and only where those are enabled.
  experimentAction(action) {
    const { state, experiments, training } = this;
    switch (action) {
      case 'start': {
        if (state.training) return;
        const n = this.config.testImages();
        if (n >= 0) experiments.start(this.form.values(), n);
        return;
      }
      case 'continue':
        if (!state.training) experiments.continue();
        return;
      case 'pause':
        if (experiments.queue && state.training && !state.waiting) training.togglePause();
        return;
      case 'stop':
        if (experiments.queue && state.training) training.stop();
    }
  }

  /** view is what the Compare panel shows and the experiments' queue, for the browser tests. */
  view() {
    const q = this.experiments.queue;
    return {
      compare: this.comparePanel.view(),
      queue: q ? { remaining: [...q.remaining], done: [...q.done], running: q.running } : null,
    };
  }
}
