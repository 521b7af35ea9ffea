// The training images, kept once in the page for all its workers. Each worker asks for its part
// of every batch over a MessagePort of its own (wasm/trainset_js.go): a worker's WebAssembly memory
// never shrinks, and 47 MB of images in each was most of it.

/** pixelsPerImage is the size of one MNIST image, 28×28 bytes. */
export const pixelsPerImage = 28 * 28;

/**
 * serveImages answers a worker's requests on port from pixels (the training images, 784 bytes
 * each, as worker 0's unpackImages gave them): {seq, indices: ArrayBuffer of int32} gets
 * {seq, pixels: Uint8Array} with those images in that order, moved rather than copied, or
 * {seq, error} when an index is out of range.
 */
export function serveImages(port, pixels) {
  const count = pixels.length / pixelsPerImage;
  port.onmessage = (e) => {
    const { seq, indices } = e.data;
    const idx = new Int32Array(indices);
    const out = new Uint8Array(idx.length * pixelsPerImage);
    for (let i = 0; i < idx.length; i++) {
      const n = idx[i];
      if (!(n >= 0 && n < count)) {
        port.postMessage({ seq, error: `image ${n} is not one of the ${count} training images` });
        return;
      }
      out.set(pixels.subarray(n * pixelsPerImage, (n + 1) * pixelsPerImage), i * pixelsPerImage);
    }
    port.postMessage({ seq, pixels: out }, [out.buffer]);
  };
}
