// The training images, kept once in the page for all its workers, and kept small. Each worker
// asks for its part of every batch over a MessagePort of its own (wasm/trainset_js.go): a
// worker's WebAssembly memory never shrinks, and 47 MB of images in each was most of it.

/** pixelsPerImage is the size of one MNIST image, 28×28 bytes. */
export const pixelsPerImage = 28 * 28;

/**
 * TrainingImages holds the training images as runs: each image is a series of (zeros, n, n
 * bytes) tokens, a count of background pixels, then the n non-zero pixels that follow them.
 * About four in five of an MNIST image's pixels are background, so the 47 MB of the training set
 * take 12.4 MB, which counts in a tab that must stay under 500 MB with two workers. It is
 * lossless: copyImage gives back the bytes it was made from, so training sees the same pixels.
 */
export class TrainingImages {
  /** pixels: the images, 784 bytes each, as worker 0's unpackImages gave them. */
  constructor(pixels) {
    if (pixels.length % pixelsPerImage !== 0) throw new Error(`${pixels.length} bytes are not a whole number of 28×28 images`);
    /** count is how many images there are. */
    this.count = pixels.length / pixelsPerImage;
    this.offsets = new Uint32Array(this.count + 1);
    // Two passes, the first to measure, so the runs take no more room than they need.
    this.runs = new Uint8Array(encode(pixels, this.count, null, null));
    encode(pixels, this.count, this.runs, this.offsets);
  }

  /** copyImage writes image n's 784 bytes into out, which must be zero there, from at. */
  copyImage(n, out, at) {
    const runs = this.runs;
    let p = at;
    for (let i = this.offsets[n], end = this.offsets[n + 1]; i < end;) {
      p += runs[i];
      const len = runs[i + 1];
      for (let j = 0; j < len; j++) out[p + j] = runs[i + 2 + j];
      p += len;
      i += 2 + len;
    }
  }

  /** byteLength is the memory the runs take, in bytes. */
  get byteLength() {
    return this.runs.byteLength + this.offsets.byteLength;
  }
}

// encode writes count images of pixels as runs into out, and where each starts into offsets
// (when out is null it only counts), and returns the runs' length in bytes. A token is at most
// 255 zeros and 255 pixels: a long background run is a few tokens with no pixels.
function encode(pixels, count, out, offsets) {
  let o = 0;
  for (let n = 0; n < count; n++) {
    if (offsets) offsets[n] = o;
    const end = (n + 1) * pixelsPerImage;
    let i = n * pixelsPerImage;
    while (i < end) {
      let zeros = 0;
      while (i < end && pixels[i] === 0 && zeros < 255) {
        i++;
        zeros++;
      }
      const start = i;
      while (i < end && pixels[i] !== 0 && i - start < 255) i++;
      if (out) {
        out[o] = zeros;
        out[o + 1] = i - start;
        out.set(pixels.subarray(start, i), o + 2);
      }
      o += 2 + i - start;
    }
  }
  if (offsets) offsets[count] = o;
  return o;
}

/**
 * serveImages answers a worker's requests on port from images (TrainingImages): {seq, indices:
 * ArrayBuffer of int32} gets {seq, pixels: Uint8Array} with those images in that order, moved
 * rather than copied, or {seq, error} when an index is out of range.
 */
export function serveImages(port, images) {
  port.onmessage = (e) => {
    const { seq, indices } = e.data;
    const idx = new Int32Array(indices);
    const out = new Uint8Array(idx.length * pixelsPerImage);
    for (let i = 0; i < idx.length; i++) {
      const n = idx[i];
      if (!(n >= 0 && n < images.count)) {
        port.postMessage({ seq, error: `image ${n} is not one of the ${images.count} training images` });
        return;
      }
      images.copyImage(n, out, i * pixelsPerImage);
    }
    port.postMessage({ seq, pixels: out }, [out.buffer]);
  };
}
