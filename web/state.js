// The page's state, in one place: what the workers said (info), where the page is (ready, loaded,
// training, paused, waiting), the settings the workers accepted and their summary, the refusals,
// the current run, the test result shown, the status line. The feature modules change it with
// set() and follow it with watch(); none keeps a copy of it, and none reads another's insides.

const values = Symbol('values');

/**
 * PageState is an EventTarget holding the keys it was made with, read as properties
 * (state.loaded). set() changes some, and announces those that changed with one 'change' event,
 * {changed: Set of keys}, dispatched at once: whoever watches sees the new state before set returns.
 */
export class PageState extends EventTarget {
  constructor(initial) {
    super();
    this[values] = { ...initial };
    for (const key of Object.keys(initial)) {
      Object.defineProperty(this, key, { get: () => this[values][key], enumerable: true });
    }
  }

  /** set changes the keys of changes, each one the state was made with. */
  set(changes) {
    const changed = new Set();
    for (const [key, value] of Object.entries(changes)) {
      if (!(key in this[values])) throw new Error(`${key} is not part of the page's state`);
      if (!Object.is(this[values][key], value)) {
        this[values][key] = value;
        changed.add(key);
      }
    }
    if (changed.size) this.dispatchEvent(new CustomEvent('change', { detail: { changed } }));
  }

  /** on calls fn(state) after each change of one of keys. */
  on(keys, fn) {
    this.addEventListener('change', (e) => {
      if (keys.some((k) => e.detail.changed.has(k))) fn(this);
    });
  }

  /** watch calls fn(state) now, and after each change of one of keys: what fn shows stays up to date. */
  watch(keys, fn) {
    this.on(keys, fn);
    fn(this);
  }

  /** say shows text in the status line: kind is '', 'busy' or 'error'. */
  say(text, kind = '') {
    this.set({ status: { text, kind } });
  }
}
