// The settings form of the Train panel: one control per model setting (info.fields, Go's one
// list of settings), the preset picker, test-images, and the settings a course locked. It holds
// what the controls say and shows refusals under them; it does not configure the workers
// (configuration.js does) or train (training.js).
import { CodedError } from './errors.js';
import { quoted } from './format.js';

export class SettingsForm {
  // form: the Train panel's <form id="settings">, holding the markup of index.html.
  constructor(form) {
    this.form = form;
    this.el = (id) => form.querySelector(`#${id}`);
    this.info = null;
    // presetKeys are the settings in which presets differ: choosing a preset sets only these.
    this.presetKeys = [];
    // locked holds the settings the course fixed (lock=), key -> value: the value the URL or its
    // preset gave. Their controls are disabled, and nothing the student, the host page, a
    // preset, a stored run or a weights file does changes them.
    this.locked = {};
  }

  // build makes the controls for info (the workers' info: fields and presets).
  build(info) {
    this.info = info;
    const select = this.el('preset');
    for (const p of info.presets) select.add(new Option(p.title, p.name));
    select.add(new Option('Custom', ''));
    this.presetKeys = info.fields.map((f) => f.key)
      .filter((k) => info.presets.some((p) => p.values[k] !== info.presets[0].values[k]));

    const box = this.el('fields');
    for (const f of info.fields) {
      const div = document.createElement('div');
      div.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = `f-${f.key}`;
      label.innerHTML = '<code></code>';
      label.firstChild.textContent = f.key;
      const input = document.createElement('input');
      input.id = `f-${f.key}`;
      input.name = f.key;
      input.type = 'text';
      input.spellcheck = false;
      input.autocomplete = 'off';
      input.inputMode = inputMode(f);
      input.value = f.value;
      input.setAttribute('aria-describedby', `f-${f.key}-hint f-${f.key}-error`);
      const hint = document.createElement('p');
      hint.className = 'hint';
      hint.id = `f-${f.key}-hint`;
      hint.textContent = f.usage;
      const error = document.createElement('p');
      error.className = 'error';
      error.id = `f-${f.key}-error`;
      error.hidden = true;
      div.append(label, input, hint, error);
      box.append(div);
    }
  }

  // control is the input of setting key ('test-images' included), or null.
  control(key) {
    return key === 'test-images' ? this.el('test-images') : this.el(`f-${key}`);
  }

  // values are the model settings as the controls say them, key -> text (test-images apart).
  values() {
    return Object.fromEntries(this.info.fields.map((f) => [f.key, this.control(f.key).value]));
  }

  // testImagesText is what the test-images control says, trimmed.
  get testImagesText() {
    return this.el('test-images').value.trim();
  }

  // fill puts values (test-images too) into the controls, except the settings the course locked,
  // and shows the preset they match.
  fill(values) {
    for (const [key, value] of Object.entries(values)) {
      const input = this.control(key);
      if (input && !(key in this.locked)) input.value = String(value);
    }
    this.matchPreset();
  }

  // preset is the name of the preset the picker shows ('' for Custom).
  get preset() {
    return this.el('preset').value;
  }

  // presetValues are the architecture settings of preset name, or null if there is none.
  presetValues(name) {
    const p = this.info.presets.find((p) => p.name === name);
    return p ? Object.fromEntries(this.presetKeys.map((k) => [k, p.values[k]])) : null;
  }

  // archLocked says whether the course locked a setting in which the presets differ.
  get archLocked() {
    return this.presetKeys.some((k) => k in this.locked);
  }

  // matchPreset shows the preset whose architecture the settings have, or Custom.
  matchPreset() {
    const v = this.values();
    const p = this.info.presets.find((p) => this.presetKeys.every((k) => p.values[k] === v[k]));
    this.el('preset').value = p ? p.name : '';
  }

  // lockKeys reads a lock= value: setting names, comma-separated, or all.
  lockKeys(text) {
    if (!text) return [];
    const known = [...this.info.fields.map((f) => f.key), 'test-images'];
    const keys = text.split(',').map((k) => k.trim()).filter(Boolean);
    if (keys.includes('all')) return known;
    for (const k of keys) {
      if (!known.includes(k)) throw new Error(`lock: ${quoted(k)} is not a setting; the settings are ${known.join(', ')}, or all.`);
    }
    return keys;
  }

  // lock fixes keys at values (those the workers accepted from the URL; test-images at what its
  // control says), and says so under each control.
  lock(keys, values) {
    for (const key of keys) {
      const input = this.control(key);
      this.locked[key] = key === 'test-images' ? input.value : values[key];
      input.disabled = true;
      input.title = 'Set by the course';
      const hint = this.el(`${input.id}-hint`);
      if (hint) hint.textContent += ' · set by the course';
    }
    // A preset changes the architecture: with any of its settings locked, the picker is too.
    if (this.archLocked) {
      this.el('preset').disabled = true;
      this.el('preset-hint').textContent = 'Set by the course.';
    }
  }

  // lockProblem is the error refusing a change of a locked setting in values (code locked), or null.
  lockProblem(values) {
    for (const [key, value] of Object.entries(values)) {
      if (key in this.locked && String(value) !== this.locked[key]) {
        return new CodedError('locked', `${key}: the course fixed it at ${this.locked[key]}, so it cannot be ${quoted(String(value))}`, key);
      }
    }
    return null;
  }

  // mark puts message under the control of setting key ('preset' and 'test-images' too), if
  // there is one.
  mark(key, message) {
    const input = key && (this.control(key) || this.el(key));
    const box = input && this.el(`${input.id}-error`);
    if (!box) return;
    input.setAttribute('aria-invalid', 'true');
    box.textContent = message;
    box.hidden = false;
  }

  // invalidKey is the name of the first setting marked as refused ('' if none).
  get invalidKey() {
    return this.form.querySelector('[aria-invalid]')?.name || '';
  }

  // clearErrors removes every refusal shown under the controls.
  clearErrors() {
    for (const el of this.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of this.form.querySelectorAll('.error')) el.hidden = true;
  }
}

// inputMode picks a phone keyboard for setting f from its limits (info.fields): digits only where
// a value is a plain count; text for a list ("32,64,128"), a value that may be negative (seed) or
// a fraction the notebook writes with an exponent (epsilon's 1e-12); else a decimal one (lr).
function inputMode(f) {
  if (f.count || f.min < 0 || f.min === f.max) return 'text';
  if (f.integer) return 'numeric';
  return f.value.includes('e') ? 'text' : 'decimal';
}
