// The page in a course page: the host link (host.js, protocol.md "The host page") tells the host
// what happens (ready, progress, epoch, digits, finished, waiting, error) and takes its commands (train,
// stop, configure); and the Embed dialog gives an instructor the code for the settings on the
// page now.
import { EmbedDialog } from './embed-dialog.js';
import { CodedError } from './errors.js';
import { quoted } from './format.js';
import { HostLink } from './host.js';
import { recordTest } from './store.js';

const $ = (id) => document.getElementById(id);

export class Embedding {
  // startup says loaded and load-failed; training says ended; myDigits says measured; params are
  // the page's URL parameters.
  constructor({ state, team, form, config, training, startup, params, myDigits }) {
    Object.assign(this, { state, team, config, training });
    const host = new HostLink((m) => this.command(m));
    this.host = host;
    startup.addEventListener('loaded', () => {
      host.post('ready', { settings: state.values, presets: state.info.presets.map((p) => p.name), workers: team.count });
    });
    startup.addEventListener('load-failed', (e) => host.post('error', { code: e.detail.code, message: e.detail.message }));
    team.addEventListener('failed', (e) => host.post('error', { code: 'failed', message: e.detail.message }));
    team.addEventListener('waiting', () => host.post('waiting', {}));
    team.addEventListener('progress', ({ detail: m }) => {
      host.progress({ step: m.step, steps: m.steps, epoch: m.epoch, epochs: m.epochs, loss: m.smoothLoss, imagesPerSec: m.imagesPerSec }, m.step === m.steps);
    });
    team.addEventListener('epoch', ({ detail: m }) => {
      host.post('epoch', { epoch: m.epoch, epochs: m.epochs, trainLoss: m.trainLoss, testAccuracy: m.test ? m.test.accuracy : null });
    });
    // The accuracy on My digits and their number, never an image.
    myDigits.addEventListener('measured', (e) => host.post('digits', e.detail));
    training.addEventListener('ended', ({ detail: { row, status, error, code, wallMs } }) => {
      if (status === 'finished' || status === 'stopped') {
        const test = recordTest(row.record);
        host.post('finished', { status, run: row.id, name: row.name, epochs: row.record.epochs.length,
          accuracy: test ? test.accuracy : null, macroF1: test ? test.report.macroAvg.f1 : null, settings: row.record.settings, wallMs });
      } else {
        host.post('error', { code, message: error, key: status === 'diverged' ? 'lr' : '' });
      }
    });

    // The Embed dialog's code: the URL parameters of the settings on the page now, those that
    // differ from the notebook's (a preset by its name).
    const dialog = new EmbedDialog($('embed-dialog'), () => {
      const values = form.values();
      const pairs = [];
      const preset = form.preset;
      if (preset && preset !== state.info.presets[0].name) pairs.push(['preset', preset]);
      const base = preset ? state.info.presets.find((p) => p.name === preset).values : {};
      for (const f of state.info.fields) {
        const def = base[f.key] ?? f.value;
        if (values[f.key] !== def) pairs.push([f.key, values[f.key]]);
      }
      if (form.testImagesText !== '1000') pairs.push(['test-images', form.testImagesText]);
      return pairs;
    });
    $('embed').addEventListener('click', () => {
      if (!state.info) return;
      dialog.show({ panels: params.get('panels') || '', lock: params.get('lock') || '' });
    });
  }

  // command carries out a command of the host page; a refusal rejects with a CodedError, which
  // the host gets as an error message naming the setting (key).
  async command({ command, settings }) {
    const { state } = this;
    switch (command) {
      case 'train':
        if (state.training) throw new CodedError('busy', 'train: a run is under way');
        if (!state.loaded) throw new CodedError('not-loaded', 'train: the trainer is not ready yet (wait for its ready message)');
        this.training.train(); // its end is the finished (or error) message
        return;
      case 'stop':
        if (!state.training) throw new CodedError('no-run', 'stop: no run is under way');
        await this.team.stop();
        return;
      case 'configure':
        this.host.post('configured', { settings: await this.config.apply(settings) });
        return;
      default:
        throw new CodedError('invalid-request', `${quoted(command)} is not a command; the commands are train, stop and configure`);
    }
  }
}
