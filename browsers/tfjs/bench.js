// The project's network (README.md "The network", model/layers.go) in TensorFlow.js ops, trained
// with the wasm backend at batch 64 on the MNIST training images that the bench script serves at
// mnist/images (60000×784 bytes) and mnist/labels. Query: threads, seconds, warmup, profile. Publishes
// window.__tfjs = {done, result, error}; result is {imagesPerSec, steps, seconds, losses, variant}.
'use strict';
window.__tfjs = { done: false };

const batch = 64;

// glorot draws a Glorot-uniform variable; a 1-D shape uses fan_in = fan_out = its length, as TF does.
function glorot(shape) {
  const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
  const fanIn = shape.length === 1 ? shape[0] : shape[shape.length - 2] * receptive;
  const fanOut = shape.length === 1 ? shape[0] : shape[shape.length - 1] * receptive;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.variable(tf.randomUniform(shape, -limit, limit));
}

// samePads is TF's "SAME" padding before and after for one side: the odd pad goes at the end.
function samePads(side, k, stride) {
  const out = Math.ceil(side / stride);
  const total = Math.max((out - 1) * stride + k - side, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

// conv is tf.conv2d (SAME) with its gradient written out: TF.js 4.22's wasm backend has no
// Conv2DBackpropFilter kernel, so the kernel's gradient is itself a convolution (x as the input
// with batch and channels swapped, dy as a filter dilated by the stride), which the backend's
// XNNPACK Conv2D runs. The input's gradient is tf.conv2dTranspose (Conv2DBackpropInput), computed
// only where x is not the data.
function conv(x, w, stride, inputGrad) {
  const [, side] = x.shape;
  const k = w.shape[0];
  const [before, after] = samePads(side, k, stride);
  const kernelGrad = (x, dy) => tf.tidy(() => {
    const g = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1,
      [[0, 0], [before, after], [before, after], [0, 0]], 'NHWC', stride);
    return tf.transpose(g, [1, 2, 0, 3]);
  });
  if (!inputGrad) {
    return tf.customGrad((w, save) => ({
      value: tf.conv2d(x, w, stride, 'same'),
      gradFunc: (dy) => [kernelGrad(x, dy)],
    }))(w);
  }
  return tf.customGrad((x, w, save) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, stride, 'same'),
      gradFunc: (dy, [x, w]) => [convInputGrad(dy, w, x.shape, stride), kernelGrad(x, dy)],
    };
  })(x, w);
}

// convInputGrad is the gradient of a SAME conv2d's input x from its output's, dy. The wasm backend's
// Conv2DBackpropInput (tf.conv2dTranspose) is a plain loop, not XNNPACK: 40% of a step in this
// network (TFJS_PROFILE=1). Where the stride is 1 and the kernel odd (conv2 and conv3), it is the
// SAME correlation of dy with the kernel turned by 180° and its channels swapped, which XNNPACK's
// Conv2D runs; checkInputGrad compares the two once, at start.
function convInputGrad(dy, w, xShape, stride) {
  if (stride !== 1 || w.shape[0] % 2 === 0) return tf.conv2dTranspose(dy, w, xShape, stride, 'same');
  return tf.tidy(() => tf.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]), 1, 'same'));
}

// checkInputGrad throws unless convInputGrad agrees with tf.conv2dTranspose on random data.
function checkInputGrad() {
  tf.tidy(() => {
    const dy = tf.randomNormal([4, 7, 7, 16]);
    const w = tf.randomNormal([3, 3, 8, 16]);
    const want = tf.conv2dTranspose(dy, w, [4, 7, 7, 8], 1, 'same');
    const diff = tf.max(tf.abs(tf.sub(convInputGrad(dy, w, [4, 7, 7, 8], 1), want))).dataSync()[0];
    const scale = tf.max(tf.abs(want)).dataSync()[0];
    if (!(diff <= 1e-5 * scale)) throw new Error(`the input gradient as a conv2d differs from conv2dTranspose by ${diff} (of ${scale})`);
  });
}

// normalise is the batch-statistics normalisation: per channel over batch×H×W, no scale or offset.
function normalise(x) {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12)));
}

const maxPool = (x) => tf.maxPool(x, 3, 2, 'same');

function makeParams() {
  const p = {};
  for (const [name, shape] of [['conv1', [3, 3, 1, 32]], ['conv2', [3, 3, 32, 64]], ['conv3', [3, 3, 64, 128]],
    ['dense1', [2048, 128]], ['dense2', [128, 128]], ['dense3', [128, 10]]]) {
    p[name + '.kernel'] = glorot(shape);
    p[name + '.bias'] = glorot([shape[shape.length - 1]]);
  }
  return p;
}

// logits is the network's forward pass on x [B,28,28,1], with the shape after each block.
function logits(p, x) {
  // conv1 32 3x3/2 → ReLU → normalise → max-pool 3x3/2: [B,7,7,32]
  let h = maxPool(normalise(tf.relu(tf.add(conv(x, p['conv1.kernel'], 2, false), p['conv1.bias']))));
  // conv2 64 3x3 → ReLU → normalise: [B,7,7,64]
  h = normalise(tf.relu(tf.add(conv(h, p['conv2.kernel'], 1, true), p['conv2.bias'])));
  // conv3 128 3x3 → ReLU → normalise → max-pool 3x3/2: [B,4,4,128]
  h = maxPool(normalise(tf.relu(tf.add(conv(h, p['conv3.kernel'], 1, true), p['conv3.bias']))));
  h = tf.reshape(h, [x.shape[0], 2048]);
  h = tf.relu(tf.add(tf.matMul(h, p['dense1.kernel']), p['dense1.bias']));
  h = tf.sigmoid(tf.add(tf.matMul(h, p['dense2.kernel']), p['dense2.bias']));
  return tf.add(tf.matMul(h, p['dense3.kernel']), p['dense3.bias']);
}

async function fetchBytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function main() {
  const q = new URLSearchParams(location.search);
  const threads = Number(q.get('threads') || 1);
  const seconds = Number(q.get('seconds') || 30);
  const warmup = Number(q.get('warmup') || 3);
  const status = document.querySelector('#status');

  tf.wasm.setWasmPaths(new URL('tfjs/', location.href).href);
  tf.wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const variant = { simd, multithread, crossOriginIsolated: self.crossOriginIsolated,
    threads: tf.wasm.getThreadsCount(), cores: navigator.hardwareConcurrency,
    workers: tf.backend().wasm.PThread ? Object.keys(tf.backend().wasm.PThread.pthreads).length : 0, version: tf.version['tfjs-core'] };

  checkInputGrad();
  const [images, labels] = await Promise.all([fetchBytes('mnist/images'), fetchBytes('mnist/labels')]);
  const n = labels.length;
  const p = makeParams();
  const optimizer = tf.train.adam(0.005, 0.9, 0.999, 1e-8); // TF 1.x AdamOptimizer's defaults, as model/adam.go
  const x = new Float32Array(batch * 784);
  const y = new Float32Array(batch * 10);
  let next = 0;
  // step trains on the next 64 images in file order, and resolves with the loss.
  async function step() {
    y.fill(0);
    for (let i = 0; i < batch; i++, next = (next + 1) % n) {
      for (let j = 0; j < 784; j++) x[i * 784 + j] = images[next * 784 + j] / 255;
      y[i * 10 + labels[next]] = 1;
    }
    const xs = tf.tensor4d(x, [batch, 28, 28, 1]);
    const ys = tf.tensor2d(y, [batch, 10]);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, logits(p, xs)), true);
    const value = (await loss.data())[0];
    tf.dispose([xs, ys, loss]);
    return value;
  }

  const losses = [];
  for (let i = 0; i < warmup; i++) losses.push(await step());
  // With profile=1, one step's kernels first, by total time (tf.profile), to see where TF.js's
  // time goes in this formulation.
  let kernels;
  if (q.get('profile') === '1') {
    const byName = {};
    const info = await tf.profile(() => step());
    for (const k of info.kernels) byName[k.name] = (byName[k.name] || 0) + k.kernelTimeMs;
    kernels = Object.entries(byName).sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms: Math.round(ms * 10) / 10 }));
  }
  let steps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    losses.push(await step());
    steps++;
    elapsed = performance.now() - start;
    if (steps % 10 === 0) status.textContent = `${steps} steps, loss ${losses[losses.length - 1].toFixed(3)}`;
  }
  return { imagesPerSec: steps * batch / (elapsed / 1000), steps, seconds: elapsed / 1000, losses, variant,
    tensors: tf.memory().numTensors, kernels };
}

main().then((result) => {
  window.__tfjs = { done: true, result };
  document.querySelector('#status').textContent = JSON.stringify({ ...result, losses: undefined });
}, (err) => {
  window.__tfjs = { done: true, error: String(err && err.stack || err) };
  document.querySelector('#status').textContent = String(err);
});
