// What this browser offers of what the page can do without, and how long it keeps the runs.
// boot.js has checked what the trainer cannot do without (WebAssembly SIMD, Web Workers…); the
// rest is looked up here, never assumed: where a feature is missing the page says what that costs
// and goes on without it. Every engine has each of these in a secure context, except the storage
// estimate, which WebKitGTK lacks (2.50); an insecure one (http: to another host) has no Cache
// Storage, service worker or Web Locks.

/**
 * unavailable lists the features this browser lacks, each {feature, effect}: what the student
 * then does without, in words.
 */
export function unavailable() {
  const out = [];
  const lacks = (feature, effect) => out.push({ feature, effect });
  if (typeof indexedDB === 'undefined') lacks('IndexedDB', 'runs are kept only until the page closes, unless you export them');
  if (typeof caches === 'undefined') lacks('Cache Storage', 'the MNIST digits (11.6 MB) are downloaded again on every visit');
  if (!('serviceWorker' in navigator)) lacks('service workers', 'the trainer does not open offline');
  if (!navigator.locks) lacks('Web Locks', 'trainers in several tabs may train at the same time, each slower');
  if (!navigator.storage || typeof navigator.storage.estimate !== 'function') lacks('the storage estimate', 'the page cannot say how much room the runs have');
  return out;
}

/** unavailableText says what unavailable() found in one sentence, or ''. */
export function unavailableText(list = unavailable()) {
  if (!list.length) return '';
  return `Not in this browser: ${list.map((f) => `${f.feature} (${f.effect})`).join('; ')}.`;
}

// isWebKit: Safari, and every browser on iOS, and WebKitGTK. Their user agents name AppleWebKit
// without Chrome's or Chromium's name (Chrome on iOS says CriOS, which is WebKit too).
export const isWebKit = (ua = navigator.userAgent) => /AppleWebKit/.test(ua) && !/(Chrome|Chromium|Edg)\//.test(ua);

// inForeignFrame is true in a frame of another origin, where the browser partitions storage by
// the top-level site: runs and MNIST kept there are apart from those of the trainer's own page.
function inForeignFrame() {
  if (window.top === window) return false;
  try {
    return window.top.location.origin !== location.origin;
  } catch {
    return true; // another origin's window cannot be read
  }
}

const mb = (n) => `${Math.round(n / 1e6).toLocaleString('en')} MB`;

/**
 * storageAdvice says, in a sentence or two, how long this browser keeps the runs, and suggests
 * exporting them where it may not keep them: WebKit (Safari deletes a site's storage after 7
 * days without a visit), a frame of another site (partitioned storage, and in Safari a fraction
 * of the quota), storage the browser has not made persistent. With how much room they use, where
 * the browser says.
 */
export async function storageAdvice() {
  const storage = navigator.storage;
  const call = async (name) => {
    try {
      return storage && typeof storage[name] === 'function' ? await storage[name]() : null;
    } catch {
      return null;
    }
  };
  const [persisted, estimate] = await Promise.all([call('persisted'), call('estimate')]);
  const parts = [];
  const foreign = inForeignFrame();
  if (isWebKit()) {
    parts.push('Safari (and every WebKit browser) deletes what a site stored after 7 days without a visit' +
      (foreign ? ', and in a frame of another site keeps it apart from the trainer’s own page, with a fraction of the room' : '') +
      ': export the runs you want to keep.');
  } else if (foreign) {
    parts.push('In a frame of another site, the browser keeps these runs apart from the trainer’s own page, and may delete them sooner: export the runs you want to keep.');
  } else if (persisted === false) {
    parts.push('The browser may delete stored runs when the disk runs short: export the runs you want to keep.');
  }
  if (estimate && estimate.quota) parts.push(`This site uses ${mb(estimate.usage || 0)} of the ${mb(estimate.quota)} the browser gives it.`);
  return parts.join(' ');
}
