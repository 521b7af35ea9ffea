// The page's compact store of the training images (web/trainset.js) gives back every byte of all
// 60,000 real MNIST training images, and the worker's port answers with them in the order asked.
// Run by scripts/browsers.sh with the other page checks; MNIST is where the go command says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { TrainingImages, pixelsPerImage, serveImages } from '../web/trainset.js';

// trainingPixels reads train-images-idx3-ubyte.gz from the folder cmd/mnistdir names: 60,000
// images after a 16-byte header.
function trainingPixels() {
  const dir = process.env.MNIST_DIR || execFileSync('go', ['run', './cmd/mnistdir'], { encoding: 'utf8' }).trim();
  const idx = gunzipSync(readFileSync(path.join(dir, 'train-images-idx3-ubyte.gz')));
  return idx.subarray(16);
}

test('every training image comes back byte for byte, in a quarter of the room', (t) => {
  const pixels = trainingPixels();
  const images = new TrainingImages(pixels);
  assert.equal(images.count, 60000);
  const out = new Uint8Array(pixels.length);
  for (let n = 0; n < images.count; n++) images.copyImage(n, out, n * pixelsPerImage);
  assert.ok(Buffer.from(out.buffer).equals(Buffer.from(pixels)), 'the images differ from the unpacked file');
  const ratio = images.byteLength / pixels.length;
  assert.ok(ratio < 0.4, `the runs take ${(100 * ratio).toFixed(1)}% of the pixels' room`);
  t.diagnostic(`${(images.byteLength / 1e6).toFixed(1)} MB for ${(pixels.length / 1e6).toFixed(1)} MB of pixels`);
});

test('runs longer than a token holds: a blank image, a full one, and stripes', () => {
  const pixels = new Uint8Array(3 * pixelsPerImage);
  pixels.fill(255, pixelsPerImage, 2 * pixelsPerImage);
  for (let i = 2 * pixelsPerImage; i < 3 * pixelsPerImage; i += 2) pixels[i] = 1 + (i % 250);
  const images = new TrainingImages(pixels);
  const out = new Uint8Array(pixels.length);
  for (let n = 0; n < 3; n++) images.copyImage(n, out, n * pixelsPerImage);
  assert.deepEqual(out, pixels);
  assert.throws(() => new TrainingImages(new Uint8Array(100)), /not a whole number of 28×28 images/);
});

test('a worker gets the images it asks for, in its order, and an index out of range is refused', async () => {
  const pixels = new Uint8Array(4 * pixelsPerImage);
  for (let n = 0; n < 4; n++) pixels.fill(n + 1, n * pixelsPerImage + 100, n * pixelsPerImage + 200);
  const { port1, port2 } = new MessageChannel();
  serveImages(port1, new TrainingImages(pixels));
  const ask = (seq, indices) => new Promise((resolve) => {
    port2.onmessage = (e) => resolve(e.data);
    port2.postMessage({ seq, indices: Int32Array.from(indices).buffer });
  });
  const r = await ask(7, [3, 0, 3]);
  assert.equal(r.seq, 7);
  assert.deepEqual([r.pixels[150], r.pixels[pixelsPerImage + 150], r.pixels[2 * pixelsPerImage + 150], r.pixels[99]], [4, 1, 4, 0]);
  const bad = await ask(8, [1, 4]);
  assert.deepEqual(bad, { seq: 8, error: 'image 4 is not one of the 4 training images' });
  port1.close();
  port2.close();
});
