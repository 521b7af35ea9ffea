// The page's compact store of the training images (web/trainset.js) reads the runs Go writes
// (mnist.ParseImageRuns, whose own tests check all 60,000 real MNIST training images), refuses runs
// that do not cover whole images, and the worker's port answers with the images in the order
// asked. Run by scripts/browsers.sh with the other page checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingImages, pixelsPerImage, serveImages } from '../web/trainset.js';

// The bytes of three images as Go's mnist.ParseImageRuns gives them, pinned by its own test
// (TestImageRunsFormat): a blank image, a full one, and one with a pixel at each end.
const full = new Uint8Array(pixelsPerImage).fill(255);
const pinned = [
  { name: 'blank', image: new Uint8Array(pixelsPerImage), runs: [255, 0, 255, 0, 255, 0, 19, 0] },
  { name: 'full', image: full, runs: [0, 255, ...full.subarray(0, 255), 0, 255, ...full.subarray(0, 255), 0, 255, ...full.subarray(0, 255), 0, 19, ...full.subarray(0, 19)] },
  { name: 'ends', image: Object.assign(new Uint8Array(pixelsPerImage), { 0: 7, [pixelsPerImage - 1]: 9 }), runs: [0, 1, 7, 255, 0, 255, 0, 255, 0, 17, 1, 9] },
];

test("Go's runs come back byte for byte", () => {
  const images = new TrainingImages(Uint8Array.from(pinned.flatMap((p) => p.runs)));
  assert.equal(images.count, pinned.length);
  pinned.forEach((p, n) => {
    const out = new Uint8Array(pixelsPerImage);
    images.copyImage(n, out, 0);
    assert.deepEqual(out, p.image, p.name);
  });
  assert.equal(images.byteLength, pinned.reduce((n, p) => n + p.runs.length, 0) + 4 * (pinned.length + 1));
});

test('runs that do not cover whole images are refused', () => {
  const ends = pinned[2].runs;
  assert.throws(() => new TrainingImages(Uint8Array.from(ends.slice(0, -1))), /end inside a token \(byte 9\)/);
  assert.throws(() => new TrainingImages(Uint8Array.from([...ends, 255, 0])), /end inside image 1/);
  assert.throws(() => new TrainingImages(Uint8Array.from([255, 0, 255, 0, 255, 0, 20, 0])), /image 0 .* longer than 28×28/);
  assert.equal(new TrainingImages(new Uint8Array(0)).count, 0);
});

// runsOf encodes images whose only non-zero pixels are one span each, from..to with value v.
function runsOf(spans) {
  return Uint8Array.from(spans.flatMap(([from, to, v]) => {
    const rest = pixelsPerImage - to;
    return [from, to - from, ...new Array(to - from).fill(v), ...(rest > 255 ? [255, 0, 255, 0, rest - 510, 0] : [rest, 0])];
  }));
}

test('a worker gets the images it asks for, in its order, and an index out of range is refused', async () => {
  const { port1, port2 } = new MessageChannel();
  serveImages(port1, new TrainingImages(runsOf([1, 2, 3, 4].map((v) => [100, 200, v]))));
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
