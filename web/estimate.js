// How long a run takes: the speed of the latest run, scaled by the networks' multiply-adds per
// image, or else a typical speed; the Train panel and the experiments' queue say it.
import { roughDuration } from './format.js';

// typicalSpeed is the notebook network's training speed with the default team (two workers) on
// the reference 2-core machine (BENCHMARKS.md, 2026-12-04: 521–602 images/s in Chromium, 386–455
// in Firefox, 368–418 in WebKit): with the SIMD kernels, and with simplego's generic code.
const typicalSpeed = { simd: 450, generic: 60 };

/** notebookMacs is model.DefaultConfig().MACsPerImage(). */
export const notebookMacs = 4849408;

/**
 * estimatedSpeed is the training speed, in images/s, expected for a network of macs multiply-adds
 * per image: the latest run's (state.speed, of a network of state.speedMacs), or a typical one.
 */
export function estimatedSpeed(state, macs = state.summary?.macs || notebookMacs) {
  if (state.speed && state.speedMacs) return (state.speed * state.speedMacs) / macs;
  const simd = state.info && state.info.kernels !== 'generic';
  return ((simd ? typicalSpeed.simd : typicalSpeed.generic) * notebookMacs) / macs;
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
    `About ${roughDuration(seconds)} at ${speed < 10 ? speed.toPrecision(2) : Math.round(speed)} images/s` +
    (state.speed ? ' (measured in the latest run).' : ' (typical of a 2-core laptop; the real speed shows once training starts).');
}
