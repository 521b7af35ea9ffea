// Offline: a service worker (sw.js) keeps the files of the latest complete visit, and MNIST is in
// Cache Storage (datacache.js); with the server gone, a reload opens and trains.

export class Offline {
  constructor(state) {
    this.state = state;
    this.snapshot = null; // the service worker's answer to this visit's snapshot, {ok, error}
    this.wasm = null; // compileWasm's Promise: {module, source, offline}
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('sw.js').catch((err) => console.warn(`No offline copy: ${err.message}`));
      navigator.serviceWorker.addEventListener('message', (e) => {
        if (e.data?.type === 'snapshot') this.snapshot = e.data;
        if (e.data?.type === 'snapshot' && !e.data.ok) console.warn(`No offline copy: ${e.data.error}`);
      });
    }
  }

  /**
   * follow notes where wasm, compileWasm's Promise (wasmload.js), comes from: the page says so
   * when it is the service worker's copy. It returns wasm.
   */
  follow(wasm) {
    this.wasm = wasm;
    wasm.then((w) => {
      this.state.set({ offline: w.offline });
      if (w.offline) document.getElementById('offline').hidden = false;
    }, () => {}); // the team reports the failure
    return wasm;
  }

  /**
   * keep asks the service worker to keep what this visit loaded: the page, its modules and styles,
   * main.wasm and the workers' scripts.
   */
  async keep() {
    if (this.state.offline || !navigator.serviceWorker || !this.wasm) return;
    const sw = await navigator.serviceWorker.ready.catch(() => null);
    if (!sw || !sw.active) return;
    // The workers' scripts are fetched by the workers, so the page's resource list lacks them; of
    // main.wasm and main.wasm.gz only the one it came from counts (a static site has no main.wasm).
    const { source } = await this.wasm;
    const urls = new Set([location.href, ...['worker.js', 'wasm_exec.js', source].map((f) => new URL(f, location.href).href)]);
    for (const e of performance.getEntriesByType('resource')) {
      const url = new URL(e.name);
      if (url.origin === location.origin && !url.pathname.includes('/data/') && !/\/main\.wasm(\.gz)?$/.test(url.pathname)) urls.add(url.href);
    }
    sw.active.postMessage({ type: 'snapshot', urls: [...urls] });
  }
}
