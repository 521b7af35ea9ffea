// The Kernels and Feature maps panels: what the network's conv layers hold and what they make of
// an image. They show what they are given; the Feature maps panel says feature-source when the
// student picks another test image or their drawing.
import { drawImage, layerFigure } from './images.js';

/** KernelsPanel shows each conv layer's filters on their first input channel. */
export class KernelsPanel {
  constructor(section) {
    this.section = section;
    this.box = section.querySelector('#kernels');
  }

  // show shows the kernels request's answer (KernelLayer[]).
  show(layers) {
    this.box.replaceChildren(...layers.map((l) => layerFigure(
      `${l.layer}: ${l.out} filters, ${l.size}×${l.size}`, l.images, l.size, Math.min(l.out, 16), Math.max(3, Math.round(18 / l.size)))));
  }
}

/** FeaturesPanel shows each layer's feature maps for a test image or the drawing. */
export class FeaturesPanel {
  constructor(section) {
    this.section = section;
    this.$ = (id) => section.querySelector(`#${id}`);
    const pick = (i) => {
      this.$('feature-index').value = String((i + 10000) % 10000);
      section.querySelector('input[name="feature-source"][value="test"]').checked = true;
      this.emit();
    };
    const index = () => Number(this.$('feature-index').value);
    this.$('feature-prev').addEventListener('click', () => pick(index() - 1));
    this.$('feature-next').addEventListener('click', () => pick(index() + 1));
    this.$('feature-random').addEventListener('click', () => pick(Math.floor(Math.random() * 10000)));
    this.$('feature-index').addEventListener('change', () => pick(Math.trunc(index()) || 0));
    for (const radio of section.querySelectorAll('input[name="feature-source"]')) radio.addEventListener('change', () => this.emit());
  }

  emit() {
    this.section.dispatchEvent(new CustomEvent('feature-source', { bubbles: true }));
  }

  /** source is 'drawing' or {index} of the test image chosen. */
  get source() {
    const drawing = this.section.querySelector('input[name="feature-source"]:checked').value === 'drawing';
    return drawing ? 'drawing' : { index: Number(this.$('feature-index').value) };
  }

  // show shows the featureMaps request's answer.
  show(r) {
    this.message('');
    drawImage(this.$('feature-input'), r.input, 28);
    this.$('feature-caption').textContent = r.index >= 0 ? `Test image ${r.index}: a ${r.label}` : 'Your drawing';
    this.$('features').replaceChildren(...r.layers.map((l) => layerFigure(
      `${l.layer}: ${l.channels} maps, ${l.side}×${l.side}`, l.maps, l.side, Math.min(l.channels, l.side > 10 ? 8 : 16), Math.max(2, Math.round(28 / l.side)))));
  }

  message(text) {
    this.$('features-message').textContent = text;
  }
}
