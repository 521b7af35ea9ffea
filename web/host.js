// The page's side of the host protocol (protocol.md, "The host page"): when the page is in a
// frame, it tells the course page what happens (ready, progress, epoch, finished, error, and its
// content height) and takes train, stop and configure from it. Only the parent window may
// command, and only from the origin that embeds the page: the server's -frame-ancestors (its
// Content-Security-Policy) decides which origins may embed it at all.

/** protocolVersion is the version of the host messages; it changes when a message does. */
export const protocolVersion = 1;

/** progressInterval is the least time between two progress messages, in ms. */
const progressInterval = 250;

// contentHeight is the page's content height, in CSS px.
const contentHeight = () => Math.ceil(document.documentElement.getBoundingClientRect().height);

export class HostLink {
  // onCommand({command, settings}) handles a command from the host; its Promise's rejection is
  // posted back as an error message.
  constructor(onCommand) {
    this.framed = window.parent !== window;
    // The embedding page's origin, where the browser says it (location.ancestorOrigins):
    // messages go only there, and commands come only from there.
    const ancestor = location.ancestorOrigins?.[0];
    this.origin = ancestor && ancestor !== 'null' ? ancestor : '';
    this.lastProgress = 0;
    if (!this.framed) return;
    window.addEventListener('message', (e) => {
      if (e.source !== window.parent || (this.origin && e.origin !== this.origin)) return;
      const m = e.data;
      if (!m || m.target !== 'mnist-trainer' || typeof m.command !== 'string') return;
      if (m.command === 'height') { // a host script that loaded after the page asks again
        this.post('height', { height: contentHeight() });
        return;
      }
      Promise.resolve()
        .then(() => onCommand(m))
        .catch((err) => this.post('error', { command: m.command, code: err.code || 'failed', message: err.message, key: err.key || '' }));
    });
    // The content height, so that the host can size the frame to fit (embed.js does): now, and
    // whenever it changes. Now too, because a frame the browser does not render (offscreen, below
    // a taller one) gets no ResizeObserver callback until it is scrolled to, and would stay small.
    this.post('height', { height: contentHeight() });
    this.height = 0;
    new ResizeObserver(() => {
      const h = contentHeight();
      if (h !== this.height) this.post('height', { height: (this.height = h) });
    }).observe(document.documentElement);
  }

  // post sends message type with detail to the host page, if there is one.
  post(type, detail = {}) {
    if (!this.framed) return;
    window.parent.postMessage({ source: 'mnist-trainer', version: protocolVersion, type, ...detail }, this.origin || '*');
  }

  // progress posts a progress message, at most one per progressInterval (and always the last
  // step of a run, when last is true).
  progress(detail, last) {
    const now = performance.now();
    if (!last && now - this.lastProgress < progressInterval) return;
    this.lastProgress = now;
    this.post('progress', detail);
  }
}
