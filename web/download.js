// Downloading the MNIST files, with progress, a stall timeout and errors that name the file.

// stallMs is how long a download may go without a byte before it counts as stalled: on a slow
// school network a chunk comes every second or so, never 15 s apart on a live connection.
const stallMs = 15000;

// download fetches files ({name, size} each, from data/) and resolves with name -> bytes. It
// calls onProgress(loaded, total) (bytes, all files together) at most ten times a second. A
// retry (again) bypasses the HTTP cache, in case it holds a damaged copy. The first file that
// fails stops the others, with an error that names it and says what went wrong: no answer, an
// HTTP error, a connection cut midway, a stall, or a size other than the one expected. (Go then
// checks the SHA-256 of each.)
export async function download(files, { again = false, onProgress = () => {} } = {}) {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const loaded = {};
  let lastShown = 0;
  const show = (force) => {
    const now = performance.now();
    if (!force && now - lastShown < 100) return;
    lastShown = now;
    onProgress(Object.values(loaded).reduce((a, b) => a + b, 0), total);
  };
  const stop = new AbortController();
  const bytes = (n) => `${n.toLocaleString('en')} bytes`;
  const one = async (file) => {
    const failed = (what) => new Error(`Could not download ${file.name}: ${what}.`);
    // A connection that stays open without sending anything would wait forever: each file is
    // given stallMs without a byte, from the request and after every chunk.
    const stalled = new AbortController();
    let n = 0;
    let watchdog = 0;
    const watch = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => stalled.abort(), stallMs);
    };
    const signal = AbortSignal.any([stop.signal, stalled.signal]);
    const why = (err) => (stalled.signal.aborted
      ? `nothing arrived for ${stallMs / 1000} s after ${bytes(n)} of ${bytes(file.size)} (the connection stalled)`
      : null) || err.message;
    let response;
    watch();
    try {
      response = await fetch('data/' + file.name, { cache: again ? 'reload' : 'default', signal });
    } catch (err) {
      clearTimeout(watchdog);
      throw failed(stalled.signal.aborted ? why(err) : `no answer from the server (${err.message})`);
    }
    if (!response.ok) {
      throw failed(`the server answered ${response.status} ${response.statusText}`.trimEnd());
    }
    const reader = response.body.getReader();
    const chunks = [];
    let tooLong = false;
    loaded[file.name] = 0;
    try {
      for (;;) {
        watch();
        const { done, value } = await reader.read();
        if (done) break;
        n += value.length;
        if (n > file.size) {
          tooLong = true; // a wrong file, or a server that never stops: read no more of it
          reader.cancel().catch(() => {});
          break;
        }
        chunks.push(value);
        loaded[file.name] = n;
        show(false);
      }
    } catch (err) {
      throw failed(stalled.signal.aborted ? why(err) : `the connection broke after ${n.toLocaleString('en')} of ${bytes(file.size)} (${err.message})`);
    } finally {
      clearTimeout(watchdog);
    }
    if (tooLong) throw failed(`the server sent more than its ${bytes(file.size)}`);
    if (n < file.size) throw failed(`the download ended after ${n.toLocaleString('en')} of ${bytes(file.size)}`);
    const data = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    return [file.name, data];
  };
  try {
    const result = Object.fromEntries(await Promise.all(files.map(one)));
    show(true);
    return result;
  } catch (err) {
    stop.abort(); // the other files are not needed now
    throw err;
  }
}
