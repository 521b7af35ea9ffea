// The Embed dialog: the code an instructor copies into a course page, for the settings on the
// page now. Two forms: an <iframe> (for LMS pages, which strip scripts) and the <mnist-trainer>
// element of embed.js (for sites that allow scripts). The dialog only shows and copies text;
// embedding.js gives it the settings.

const escape = (text) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export class EmbedDialog {
  // dialog: the <dialog> of index.html; query(): the page's URL parameters for the current
  // settings, as [name, value] pairs.
  constructor(dialog, query) {
    this.dialog = dialog;
    this.query = query;
    this.part = (name) => dialog.querySelector(`[data-part="${name}"]`);
    for (const name of ['panels', 'lock']) this.part(name).addEventListener('input', () => this.update());
    for (const button of dialog.querySelectorAll('button[data-copy]')) {
      button.addEventListener('click', () => this.copy(button));
    }
    this.part('close').addEventListener('click', () => dialog.close());
  }

  // show opens the dialog; panels and lock start as the page's own URL has them.
  show({ panels, lock }) {
    this.part('panels').value = panels;
    this.part('lock').value = lock;
    this.update();
    this.dialog.showModal();
  }

  params() {
    const pairs = this.query();
    for (const name of ['panels', 'lock']) {
      const v = this.part(name).value.replace(/\s+/g, '');
      if (v) pairs.push([name, v]);
    }
    return pairs;
  }

  update() {
    const pairs = this.params();
    const page = new URL('./', location.href);
    // Commas stay commas (filters=16,32,64): the code is read by people before browsers.
    const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/gi, ',')}`).join('&');
    const src = new URL(query ? `?${query}` : '', page);
    this.part('iframe').value =
      `<iframe src="${escape(src.href)}" data-mnist-trainer\n` +
      '        title="Train a CNN on MNIST" width="100%" height="900" style="border:0" allow="fullscreen"></iframe>\n' +
      `<!-- optional: sizes the frame to its content --><script type="module" src="${escape(new URL('embed.js', page).href)}"></script>`;
    this.part('element').value =
      `<script type="module" src="${escape(new URL('embed.js', page).href)}"></script>\n` +
      `<mnist-trainer${pairs.map(([k, v]) => ` ${k}="${escape(v)}"`).join('')}></mnist-trainer>`;
    this.part('link').value = src.href;
  }

  async copy(button) {
    const text = this.part(button.dataset.copy).value;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      // No clipboard permission (an http page, or a browser setting): select it for Ctrl+C.
      this.part(button.dataset.copy).select();
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => (button.textContent = 'Copy'), 2000);
  }
}
