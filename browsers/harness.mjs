// What the engine tests run against, all on 127.0.0.1: the real server (serve/, built by
// scripts/browsers.sh), a proxy in front of it that can play a server that has gone (for the
// offline reload), and a course page of another site (localhost, not 127.0.0.1) that frames the
// trainer.
import { spawn } from 'node:child_process';
import http from 'node:http';

// startServer starts the trainer's server (the binary in $MNIST_SERVE) on a free port, and
// resolves with {origin, stop}.
export function startServer() {
  const bin = process.env.MNIST_SERVE;
  if (!bin) throw new Error('MNIST_SERVE is not set: run the engine tests with scripts/browsers.sh, which builds the server');
  const child = spawn(bin, ['-addr', '127.0.0.1:0', '-web', 'web'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s:\n${log}`)), 30000);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ origin: m[1], stop: () => child.kill() });
      }
    });
  });
}

// listen starts server on a free port of 127.0.0.1 and resolves with the port.
function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/**
 * startProxy passes every request on to origin, until down() is called: from then until up(),
 * every connection is closed at once, as when the server has gone. Resolves with {origin, down,
 * up, stop}.
 */
export async function startProxy(target) {
  let isDown = false;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (isDown) {
      req.socket.destroy();
      return;
    }
    const out = http.request(new URL(req.url, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.statusMessage, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    if (isDown) return s.destroy();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    stop: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * startCoursePage serves a course page that frames the trainer at src, as an LMS page would. It
 * is reached as http://localhost:PORT, another site than the trainer's 127.0.0.1, so the browser
 * partitions the frame's storage as a third party's. Resolves with {url, stop}.
 */
export async function startCoursePage(src) {
  const html = `<!doctype html><meta charset="utf-8"><title>A course page</title>
<h1>Lesson 3: training a CNN</h1>
<iframe id="trainer" src="${src}" title="Train a CNN on MNIST" width="1000" height="1200" style="border:0"></iframe>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html);
  });
  const port = await listen(server);
  return { url: `http://localhost:${port}/`, stop: () => server.close() };
}
