// The training images, kept once in the page for all its workers, and kept small. Each worker
// asks for its part of every batch over a MessagePort of its own (wasm/trainset_js.go): a
// worker's WebAssembly memory never shrinks, and 47 MB of images in each was most of it.

/** pixelsPerImage is the size of one MNIST image, 28×28 bytes. */
export const pixelsPerImage = 28 * 28;

/**
 * TrainingImages holds the training images as runs (Go's mnist.ParseImageRuns, which worker 0's
 * unpackImages gives): each image is a series of (zeros, n, n bytes) tokens, a count of background
 * pixels, then the n non-zero pixels that follow them. About four in five of an MNIST image's
 * pixels are background, so the 47 MB of the training set take 12.4 MB, which counts in a tab that
 * must stay under 500 MB with two workers; the page never holds the 47 MB. It is lossless:
 * copyImage gives back the bytes the runs were made from, so training sees the same pixels.
 */
export class TrainingImages {
  /** runs: the images as runs, from worker 0's unpackImages. Runs that do not cover whole images throw. */
  constructor(runs) {
    this.runs = runs;
    // Where each image starts: one pass over the tokens, which also checks that they cover whole
    // images, so that copyImage can trust them.
    const starts = [];
    let covered = 0; // pixels covered by the tokens since the last image began
    let i = 0;
    while (i < runs.length) {
      if (covered === 0) starts.push(i);
      if (i + 2 > runs.length || i + 2 + runs[i + 1] > runs.length) throw new Error(`the training images' runs end inside a token (byte ${i})`);
      covered += runs[i] + runs[i + 1];
      if (covered > pixelsPerImage) throw new Error(`image ${starts.length - 1} of the training images' runs is longer than 28×28 pixels`);
      if (covered === pixelsPerImage) covered = 0;
      i += 2 + runs[i + 1];
    }
    if (covered !== 0) throw new Error(`the training images' runs end inside image ${starts.length - 1}`);
    /** count is how many images there are. */
    this.count = starts.length;
    this.offsets = new Uint32Array(this.count + 1);
    this.offsets.set(starts);
    this.offsets[this.count] = runs.length;
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
