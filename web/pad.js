// The Draw a digit panel: a pad to draw on with a mouse, a pen or a finger, what the network sees,
// and the probability of each digit. It says pad-ink (a stroke went on or ended: predict, at most
// every 100 ms) and pad-clear as CustomEvents, and shows the predictions it is given.
import { percent } from './format.js';
import { drawImage } from './images.js';


export class DrawPad {
  constructor(section) {
    this.section = section;
    this.$ = (id) => section.querySelector(`#${id}`);
    this.pad = this.$('pad');
    this.ctx = this.pad.getContext('2d', { willReadFrequently: true });
    this.stroke = null; // the last point of the stroke being drawn
    this.hasInk = false;
    this.timer = 0;
    for (let d = 0; d < 10; d++) {
      const li = document.createElement('li');
      li.innerHTML = '<span class="digit-label"></span><span class="bar"><span class="fill"></span></span><span class="pct"></span>';
      li.firstChild.textContent = d;
      this.$('probs').append(li);
    }
    const pad = this.pad;
    pad.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      pad.setPointerCapture?.(e.pointerId);
      this.stroke = null;
      this.drawTo(this.point(e));
      this.inkSoon();
    });
    pad.addEventListener('pointermove', (e) => {
      if (!this.stroke) return;
      for (const ev of e.getCoalescedEvents?.() || [e]) this.drawTo(this.point(ev));
      this.inkSoon();
    });
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      pad.addEventListener(type, () => {
        if (!this.stroke) return;
        this.stroke = null;
        this.inkSoon();
      });
    }
    this.$('clear').addEventListener('click', () => {
      this.clear();
      section.dispatchEvent(new CustomEvent('pad-clear', { bubbles: true }));
    });
    this.clear();
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.pad.width, this.pad.height);
    this.hasInk = false;
    drawImage(this.$('pad-preview'), new Array(784).fill(0), 28);
    this.$('guess').textContent = 'Draw a digit in the box.';
    this.$('guess-live').textContent = '';
    for (const li of this.$('probs').children) {
      li.dataset.p = '';
      li.classList.remove('top');
      li.querySelector('.fill').style.width = '0%';
      li.querySelector('.pct').textContent = '';
    }
  }

  point(e) {
    const rect = this.pad.getBoundingClientRect();
    return [(e.clientX - rect.left) * (this.pad.width / rect.width), (e.clientY - rect.top) * (this.pad.height / rect.height)];
  }

  drawTo([x, y]) {
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    if (this.stroke) {
      ctx.moveTo(...this.stroke);
      ctx.lineTo(x, y);
      ctx.stroke();
    } else {
      ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    this.stroke = [x, y];
    this.hasInk = true;
  }

  // inkSoon says pad-ink at most about every 100 ms while the student draws.
  inkSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.section.dispatchEvent(new CustomEvent('pad-ink', { bubbles: true }));
    }, 100);
  }

  // pixels returns the drawing as grey levels: white ink on black, so the red channel.
  pixels() {
    const rgba = this.ctx.getImageData(0, 0, this.pad.width, this.pad.height).data;
    const pixels = new Uint8Array(this.pad.width * this.pad.height);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i];
    return { pixels, width: this.pad.width, height: this.pad.height };
  }

  // showPrediction shows predict's answer {probabilities, input}, or an error's message.
  showPrediction(r) {
    if (r instanceof Error) {
      this.$('guess').textContent = r.message;
      return;
    }
    drawImage(this.$('pad-preview'), r.input, 28);
    const best = r.probabilities.indexOf(Math.max(...r.probabilities));
    this.$('guess').textContent = `Looks like a ${best} (${percent(r.probabilities[best])} sure).`;
    // Screen readers hear the guess when it changes, not every update while the student draws.
    if (this.$('guess-live').textContent !== `Looks like a ${best}.`) this.$('guess-live').textContent = `Looks like a ${best}.`;
    [...this.$('probs').children].forEach((li, d) => {
      const p = r.probabilities[d];
      li.dataset.p = String(p);
      li.classList.toggle('top', d === best);
      li.querySelector('.fill').style.width = `${(100 * p).toFixed(1)}%`;
      li.querySelector('.pct').textContent = percent(p);
    });
    this.$('probs').dataset.updates = String(Number(this.$('probs').dataset.updates) + 1);
  }
}
