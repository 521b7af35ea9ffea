// embed.js: the trainer in any course page that allows scripts, from the trainer's own server.
//
//   <script type="module" src="https://trainer.example.edu/embed.js"></script>
//   <mnist-trainer preset="half-filters" panels="train,loss,report" lock="filters"></mnist-trainer>
//
// Each <mnist-trainer> holds the trainer page in a frame of the trainer's origin, so its styles,
// scripts, workers and stored runs stay apart from the course page and from each other. Its
// attributes are the page's URL parameters, with the same names; the trainer's messages
// (protocol.md, "The host page") come out as DOM CustomEvents of the same names (ready,
// progress, epoch, finished, error), with the message as detail; train(), stop() and
// configure(settings) command it. Removing the element ends its workers.
//
// The same script also sizes plain <iframe data-mnist-trainer> frames to their content.

const trainerOrigin = new URL(import.meta.url).origin;
const pageURL = new URL('./', import.meta.url);

/** events are the trainer's messages that become CustomEvents of the element. */
const events = ['ready', 'progress', 'epoch', 'finished', 'error', 'configured', 'waiting', 'digits'];

// frameOf returns the <iframe> whose window sent a message, among the page's trainer frames.
function frameOf(source) {
  for (const el of document.querySelectorAll('mnist-trainer, iframe[data-mnist-trainer]')) {
    const frame = el.localName === 'iframe' ? el : el.frame;
    if (frame && frame.contentWindow === source) return { el, frame };
  }
  return null;
}

window.addEventListener('message', (e) => {
  if (e.origin !== trainerOrigin || !e.data || e.data.source !== 'mnist-trainer') return;
  const found = frameOf(e.source);
  if (!found) return;
  const { type } = e.data;
  if (type === 'height') found.frame.style.height = `${e.data.height}px`;
  else if (found.el !== found.frame && events.includes(type)) {
    found.el.dispatchEvent(new CustomEvent(type, { detail: e.data }));
  }
});

// Frames that loaded before this script told their height to nobody: they are asked again, now
// and whenever one loads.
function askHeight(frame) {
  frame.contentWindow?.postMessage({ target: 'mnist-trainer', command: 'height' }, trainerOrigin);
}
for (const frame of document.querySelectorAll('iframe[data-mnist-trainer]')) {
  askHeight(frame);
  frame.addEventListener('load', () => askHeight(frame));
}

/** MnistTrainer is the <mnist-trainer> element. */
class MnistTrainer extends HTMLElement {
  connectedCallback() {
    if (this.frame) return;
    const shadow = this.shadowRoot || this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ':host { display: block; } iframe { display: block; width: 100%; height: 900px; border: 0; }';
    this.frame = document.createElement('iframe');
    this.frame.title = this.getAttribute('title') || 'Train a convolutional network on MNIST';
    this.frame.allow = 'fullscreen';
    this.frame.src = this.src();
    shadow.replaceChildren(style, this.frame);
  }

  // disconnectedCallback removes the frame: its page, and with it its workers, end.
  disconnectedCallback() {
    this.frame?.remove();
    this.frame = null;
  }

  // src is the trainer page's URL with the element's attributes as URL parameters.
  src() {
    const url = new URL(pageURL);
    for (const { name, value } of this.attributes) if (name !== 'title' && name !== 'style' && name !== 'class' && name !== 'id') url.searchParams.set(name, value);
    return url.href;
  }

  command(command, detail = {}) {
    if (!this.frame) throw new Error('mnist-trainer: the element is not in the page');
    this.frame.contentWindow.postMessage({ target: 'mnist-trainer', command, ...detail }, trainerOrigin);
  }

  /** train starts a run with the current settings. */
  train() {
    this.command('train');
  }

  /** stop ends the run under way after its current step. */
  stop() {
    this.command('stop');
  }

  /** configure changes settings ({filters: '16,32,64', epochs: 2, preset: 'kernel-4', …}). */
  configure(settings) {
    this.command('configure', { settings });
  }
}

if (!customElements.get('mnist-trainer')) customElements.define('mnist-trainer', MnistTrainer);
