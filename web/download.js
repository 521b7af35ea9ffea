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
    // The bytes go straight into one array of the expected size. Where the engine offers a
    // byte reader (BYOB), the body is read into that array itself; otherwise each chunk is
    // copied in. Chunks, and joining them at the end, left as much again (9.9 MB for the training
    // images) for the JavaScript collector, which came late, and the tab's peak counted it.
    let reader = null;
    let byob = true;
    try {
      reader = response.body.getReader({ mode: 'byob' });
    } catch {
      byob = false; // no byte streams for fetch bodies in this engine
      reader = response.body.getReader();
    }
    let data = new Uint8Array(file.size);
    let tooLong = false;
    loaded[file.name] = 0;
    try {
      for (;;) {
        watch();
        // A byte reader fills the rest of data (and hands its buffer back, moved), or one spare
        // byte once data is full, to tell the stream's end from a file longer than expected.
        const { done, value } = await (byob ? reader.read(n < file.size ? new Uint8Array(data.buffer, n) : new Uint8Array(1)) : reader.read());
        if (done) break;
        if (n + value.length > file.size) {
          tooLong = true; // a wrong file, or a server that never stops: read no more of it
          reader.cancel().catch(() => {});
          break;
        }
        if (byob) data = new Uint8Array(value.buffer);
        else data.set(value, n);
        n += value.length;
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
