// MNIST kept in the browser's Cache Storage, keyed by each file's SHA-256: downloaded once per
// browser, whatever the number of pages and tabs. The download runs under a Web Lock,
// so that pages starting together wait for the first one's copy instead of fetching their own.
// Go checks every file's SHA-256 again when it parses it (model.VerifyFile), so a damaged copy
// is refused, and the page's Try again fetches it afresh (again) and replaces it.

import { withLock } from './locks.js';

const cacheName = 'mnist-trainer-data';

const keyOf = (f) => new URL(`data/${f.name}?sha256=${f.sha256}`, document.baseURI).href;

/**
 * loadFiles returns the files ({name, size, sha256}[]) as name -> bytes, from Cache Storage
 * where they are there (unless again), and from download(missing, again) otherwise, which then
 * go into the cache. cached is how many came from the cache. A browser without Cache Storage, or
 * one that refuses to store (a full quota), only downloads.
 */
export function loadFiles(files, download, again) {
  return withLock('mnist-trainer.download', async () => {
    let cache = null;
    try {
      cache = await caches.open(cacheName);
    } catch {
      // No Cache Storage here (a private window, storage blocked): download every time.
    }
    const out = {};
    let missing = files;
    if (cache && !again) {
      missing = [];
      for (const f of files) {
        const hit = await cache.match(keyOf(f));
        if (hit) out[f.name] = new Uint8Array(await hit.arrayBuffer());
        else missing.push(f);
      }
    }
    const cached = files.length - missing.length;
    if (missing.length) {
      const got = await download(missing, again);
      for (const f of missing) {
        out[f.name] = got[f.name];
        // Files of the same name but another SHA-256 (an older MNIST) are left to be replaced.
        await cache?.put(keyOf(f), new Response(got[f.name], { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => {});
      }
    }
    return { files: out, cached };
  });
}
