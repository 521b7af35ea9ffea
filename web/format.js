// How the page writes numbers and times for people: one place, so every panel says them alike.

/**
 * quoted puts a value from the URL or a control in quotes for a message, cut short if it is
 * long, as Go's messages do (model/config.go).
 */
export function quoted(text) {
  const chars = [...text];
  return chars.length > 40 ? `${JSON.stringify(`${chars.slice(0, 40).join('')}…`)} (${chars.length} characters)` : JSON.stringify(text);
}

/** percent writes a share 0..1 as "93.4%". */
export const percent = (x) => `${(100 * x).toFixed(1)}%`;

/** rate writes a training speed in images/s: "1,996", or "4.2" below 10. */
export const rate = (x) => (x < 10 ? x.toPrecision(2) : Math.round(x).toLocaleString('en'));

/** plural writes "1 epoch", "2 epochs". */
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** clock writes a duration in ms as a clock: "4:05", "1:02:03". */
export function clock(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** roughDuration says how long a run will take, rounded: "40 s", "12 min", "1 h 41 min". */
export function roughDuration(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  const min = Math.round(seconds / 60);
  return min < 90 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** wall says how long a run took, in ms, to the second: "41 s", "12 min 5 s", "1 h 3 min". */
export function wall(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
