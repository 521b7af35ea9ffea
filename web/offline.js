// Offline: a service worker (sw.js) keeps the files of the latest complete visit, and MNIST is in
// Cache Storage (datacache.js); with the server gone, a reload opens and trains.

export class Offline {
  constructor(state) {
    this.state = state;
    this.snapshot = null; // the service worker's answer to this visit's snapshot, {ok, error}
    this.keeping = 'not asked'; // how far keep got: what a test that waits for snapshot reports
    this.wasm = null; // compileWasm's Promise: {module, source, offline}
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('sw.js').catch((err) => console.warn(`No offline copy: ${err.message}`));
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
    if (this.state.offline || !navigator.serviceWorker || !this.wasm) {
      this.keeping = this.state.offline ? 'offline' : !navigator.serviceWorker ? 'no service worker' : 'no main.wasm';
      return;
    }
    this.keeping = 'waiting for the service worker';
    const worker = await this.worker();
    // The workers' scripts are fetched by the workers, so the page's resource list lacks them; of
    // main.wasm and main.wasm.gz only the one it came from counts (a static site has no main.wasm).
    const { source } = await this.wasm;
    const urls = new Set([location.href, ...['worker.js', 'wasm_exec.js', source].map((f) => new URL(f, location.href).href)]);
    for (const e of performance.getEntriesByType('resource')) {
      const url = new URL(e.name);
      if (url.origin === location.origin && !url.pathname.includes('/data/') && !/\/main\.wasm(\.gz)?$/.test(url.pathname)) urls.add(url.href);
    }
    // The answer comes on a port the page made, straight back to it: Client.postMessage would
    // have to find this page among the browser's clients.
    const answer = new MessageChannel();
    answer.port1.onmessage = (e) => {
      this.snapshot = e.data;
      this.keeping = 'answered';
      if (!e.data.ok) console.warn(`No offline copy: ${e.data.error}`);
    };
    worker.postMessage({ type: 'snapshot', urls: [...urls] }, [answer.port2]);
    this.keeping = `asked the service worker (${worker.state}) to keep ${urls.size} files`;
  }

  // worker resolves with the service worker to ask: the one that controls the page, as it does
  // from the start after a first visit; on a first visit, the registration's active one, or the
  // page's once the service worker claims it (sw.js). Firefox 153 now and then resolved ready with
  // a registration whose active was null, after a reload (1 run in 15 of the Firefox tests, and
  // by its symptom once in CI): the visit was not kept.
  async worker() {
    const container = navigator.serviceWorker;
    if (container.controller) return container.controller;
    const registration = await container.ready;
    if (container.controller || registration.active) return container.controller || registration.active;
    this.keeping = 'waiting for the service worker to control the page';
    await new Promise((resolve) => container.addEventListener('controllerchange', resolve, { once: true }));
    return container.controller;
  }
}
