// Loading main.wasm. The Go server negotiates its compression (brotli, 1.9 MB, or gzip, 2.7 MB,
// instead of 12 MB). A static host (make site) has only main.wasm.gz, which many hosts serve as
// plain bytes: it is then un-gzipped here with DecompressionStream.

const isGzip = (bytes) => bytes[0] === 0x1f && bytes[1] === 0x8b;

/**
 * compileWasm fetches and compiles main.wasm. It resolves with {module, source, offline}: source
 * is the file it came from, and offline is true when the service worker served its copy
 * because the server could not be reached (sw.js).
 */
export async function compileWasm() {
  let res = await fetch('main.wasm');
  const offline = res.headers.get('X-Mnist-Offline') === '1';
  if (res.ok) {
    // The bytes, then WebAssembly.compile, not compileStreaming: in Chromium a tab that compiled
    // main.wasm streaming held 12 MB more at its peak through a fresh page's quick run (496 MB
    // against 484, five pairs of runs; BENCHMARKS.md), with the same time to ready; the bytes are
    // garbage once compiled. What it costs: the compile no longer overlaps a slow download, and it
    // takes 40 ms in Chromium, 250 in Firefox and 160 in WebKit here.
    return { module: await WebAssembly.compile(await res.arrayBuffer()), source: 'main.wasm', offline };
  }
  if (res.status !== 404) throw new Error(`main.wasm: the server answered ${res.status} ${res.statusText}`.trimEnd());
  res = await fetch('main.wasm.gz');
  if (!res.ok) throw new Error(`main.wasm (and main.wasm.gz): the server answered ${res.status} ${res.statusText}`.trimEnd());
  let bytes = new Uint8Array(await res.arrayBuffer());
  // A host that sends it with Content-Encoding: gzip has had the browser un-gzip it already.
  if (isGzip(bytes)) bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  return { module: await WebAssembly.compile(bytes), source: 'main.wasm.gz', offline: res.headers.get('X-Mnist-Offline') === '1' };
}
