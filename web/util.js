// Small helpers the feature modules share.

/** sentence ends text with a full stop, unless it has one. */
export const sentence = (text) => text.replace(/[^.!?]$/, '$&.');

/** coalesced returns a function that runs fn at most once at a time; calls meanwhile make it run once more afterwards. */
export function coalesced(fn) {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } catch (err) {
      console.warn(err);
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  return run;
}

/** once returns a function that calls fn the first time and answers its result ever after. */
export function once(fn) {
  let done = false;
  let result;
  return () => {
    if (!done) {
      result = fn();
      done = true;
    }
    return result;
  };
}

/** saveFile saves blob as a file named name (the browser's download). */
export function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
