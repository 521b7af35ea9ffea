// Drawing grey-level images (arrays of 0..255) on canvases, alone or as grids.

// Matplotlib's viridis, the colour map the course notebook's plots use, as anchors 0..255.
const viridisAnchors = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
];
const viridis = Array.from({ length: 256 }, (_, v) => {
  const t = (v / 255) * (viridisAnchors.length - 1);
  const i = Math.min(Math.floor(t), viridisAnchors.length - 2);
  const f = t - i;
  return viridisAnchors[i].map((c, k) => Math.round(c + f * (viridisAnchors[i + 1][k] - c)));
});
const gray = Array.from({ length: 256 }, (_, v) => [v, v, v]);

export const palettes = { viridis, gray };

// drawImage draws one side x side image on canvas, one canvas pixel per image pixel (CSS scales it).
export function drawImage(canvas, image, side, palette = gray) {
  drawGrid(canvas, [image], side, 1, palette, 0);
}

// drawGrid draws images (each side x side) in rows of cols with gap transparent pixels between them,
// one canvas pixel per image pixel; CSS scales the canvas up with crisp pixels.
export function drawGrid(canvas, images, side, cols, palette = viridis, gap = 1) {
  const rows = Math.ceil(images.length / cols);
  canvas.width = cols * (side + gap) - gap;
  canvas.height = Math.max(1, rows * (side + gap) - gap);
  const ctx = canvas.getContext('2d');
  const out = ctx.createImageData(canvas.width, canvas.height);
  images.forEach((image, n) => {
    const left = (n % cols) * (side + gap);
    const top = Math.floor(n / cols) * (side + gap);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const [r, g, b] = palette[image[y * side + x]];
        const o = ((top + y) * canvas.width + left + x) * 4;
        out.data[o] = r;
        out.data[o + 1] = g;
        out.data[o + 2] = b;
        out.data[o + 3] = 255;
      }
    }
  });
  ctx.putImageData(out, 0, 0);
}

// layerFigure returns a figure with a caption and a canvas showing images as a grid of cols
// columns, scaled up scale times with crisp pixels: a layer's kernels or feature maps.
export function layerFigure(caption, images, side, cols, scale) {
  const figure = document.createElement('figure');
  figure.className = 'layer';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', caption);
  drawGrid(canvas, images, side, cols, viridis);
  canvas.style.width = `${canvas.width * scale}px`;
  const fc = document.createElement('figcaption');
  fc.textContent = caption;
  figure.append(fc, canvas);
  return figure;
}
