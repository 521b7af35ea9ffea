// How long a run takes: the speed of the latest run, scaled by the networks' multiply-adds per
// image, or else a typical speed; the Train panel and the experiments' queue say it.
import { rate, roughDuration } from './format.js';

// typicalSpeed is the notebook network's training speed with the default team (two workers) on
// the reference 2-core machine, with the SIMD kernels (make bench, 2026-12-06: 2,208 images/s in
// Chromium, 2,187 in Firefox and 1,913 in WebKit over 30 s; a page's first quick run showed about
// 2,000, and 1,500 in WebKit, which compiles its code further for seconds), and with simplego's
// generic code (72 in Chromium). It was 450 until then, so a first quick run was said to take 16 s
// where it took 4 to 8.
const typicalSpeed = { simd: 1800, generic: 70 };

/**
 * estimatedSpeed is the training speed, in images/s, expected for a network of macs multiply-adds
 * per image (the notebook network's: state.info.notebookMacs, from Go): the latest run's
 * (state.speed, of a network of state.speedMacs), or a typical one.
 */
export function estimatedSpeed(state, macs = state.summary.macs) {
  if (state.speed && state.speedMacs) return (state.speed * state.speedMacs) / macs;
  const { kernels, notebookMacs } = state.info;
  return ((kernels !== 'generic' ? typicalSpeed.simd : typicalSpeed.generic) * notebookMacs) / macs;
}

/**
 * runShape is the steps of a run with values (settings as text) on trainImages images, and the
 * mix-digits copies of each of digits (My digits) that each epoch takes too: per epoch and in all.
 */
export function runShape(values, trainImages, digits = 0) {
  const trainN = Number(values['train-images']) || trainImages;
  const mixed = (Number(values['mix-digits']) || 0) * digits;
  const perEpoch = Math.floor((trainN + mixed) / Number(values.batch));
  return { trainN, perEpoch, totalSteps: perEpoch * Number(values.epochs) };
}

/**
 * runSeconds estimates how long a run with values takes, testing testN images after each epoch
 * (0: all), for a network of macs multiply-adds per image.
 */
export function runSeconds(state, values, testN, macs) {
  const { trainN, perEpoch } = runShape(values, state.trainImages, state.digits?.labels.length);
  const batch = Number(values.batch);
  const epochs = Number(values.epochs);
  const lossN = Math.min(Number(values['loss-images']) || trainN, trainN);
  const speed = estimatedSpeed(state, macs);
  // Evaluation runs forward passes only, about twice as fast as training.
  return (perEpoch * batch * epochs) / speed + (epochs * (lossN + (testN || 10000))) / (2 * speed);
}

/** estimateText says how long a run of the settings the workers accepted takes, testing testN images after each epoch. */
export function estimateText(state, testN) {
  const values = state.values;
  const { perEpoch } = runShape(values, state.trainImages, state.digits?.labels.length);
  const speed = estimatedSpeed(state);
  const seconds = runSeconds(state, values, testN, state.summary.macs);
  return `${Number(values.epochs)} × ${perEpoch.toLocaleString('en')} steps of ${Number(values.batch)} images. ` +
    `About ${roughDuration(seconds)} at ${rate(speed)} images/s` +
    (state.speed ? ' (measured in the latest run).' : ' (typical of a 2-core laptop; the real speed shows once training starts).');
}
