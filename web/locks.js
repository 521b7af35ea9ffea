// Web Locks, held across every page and tab of this browser: one team trains at a time (team.js),
// and one page downloads MNIST while the others wait for its copy (datacache.js).

/** withLock runs fn holding the browser-wide lock name; where there are no locks, at once. */
export function withLock(name, fn, options = {}) {
  return navigator.locks ? navigator.locks.request(name, options, fn) : fn(true);
}
