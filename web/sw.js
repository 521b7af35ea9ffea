// The service worker: the trainer opens and trains offline after one visit.
//
// Online, every request goes to the network as without it (the server's no-cache and ETags make a
// second visit download headers only). Once a visit has loaded everything (the page says
// snapshot, with the URLs it used), those files are copied into a new offline copy, and only
// when all of them are in is it marked complete and the older copies deleted: offline, the
// page, its scripts and main.wasm always come from one visit, never a mix of an old page and a
// new main.wasm. MNIST is not here: the page keeps it in Cache Storage (datacache.js).
'use strict';

const prefix = 'mnist-trainer-app-';
const complete = '/__complete__'; // the last entry put into a finished copy

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

// keyOf is where a URL is kept: a page (a navigation) by its path alone, so that it opens
// offline whatever its URL parameters, and so is worker.js, which each worker of a team loads
// with a parameter of its own (workers.js); anything else by its whole URL.
const keyOf = (url, page) => (page || url.pathname.endsWith('/worker.js') ? url.origin + url.pathname : url.href);

// latest is the newest complete offline copy, or null.
async function latest() {
  const names = (await caches.keys()).filter((n) => n.startsWith(prefix)).sort().reverse();
  for (const name of names) {
    const cache = await caches.open(name);
    if (await cache.match(complete)) return cache;
  }
  return null;
}

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || url.pathname.includes('/data/')) return;
  e.respondWith(fetch(e.request).catch(async (err) => {
    const cache = await latest();
    const hit = cache && await cache.match(keyOf(url, e.request.mode === 'navigate'));
    if (!hit) throw err;
    // The page reads this header on main.wasm to say that it runs offline.
    const headers = new Headers(hit.headers);
    headers.set('X-Mnist-Offline', '1');
    return new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers });
  }));
});

// snapshot keeps urls (same-origin, absolute) as a new complete offline copy.
async function snapshot(urls) {
  const name = prefix + String(Date.now()).padStart(15, '0');
  const cache = await caches.open(name);
  try {
    for (const href of urls) {
      const url = new URL(href);
      if (url.origin !== location.origin || url.pathname.includes('/data/')) continue;
      // From the HTTP cache where the visit left it: no download.
      const res = await fetch(url.href, { cache: 'force-cache' });
      if (!res.ok) throw new Error(`${url.pathname}: ${res.status}`);
      await cache.put(keyOf(url, url.pathname.endsWith('/') || url.pathname.endsWith('.html')), res);
    }
    await cache.put(complete, new Response('ok'));
  } catch (err) {
    await caches.delete(name); // an incomplete copy is never used
    throw err;
  }
  for (const old of await caches.keys()) if (old.startsWith(prefix) && old !== name) await caches.delete(old);
}

self.addEventListener('message', (e) => {
  // The page sends a port to answer on (offline.js).
  const [port] = e.ports;
  if (e.data && e.data.type === 'snapshot' && Array.isArray(e.data.urls) && port) {
    e.waitUntil(snapshot(e.data.urls).then(
      () => port.postMessage({ ok: true }),
      (err) => port.postMessage({ ok: false, error: err.message }),
    ));
  }
});
