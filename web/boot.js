// The page's first script. It checks that this browser can run the trainer before any module
// loads, and then loads app.js, so that nothing that stops the page before it is ready leaves
// "Starting the trainer…" on screen for ever: a missing API, a module that cannot be fetched or
// throws while it is evaluated, an uncaught error. Each shows in the status line, in words.
//
// A classic script in the syntax of 2017, so that a browser too old for the trainer can still
// run it and say so. app.js calls mnistBoot.ready() once the page is ready; from then on the page
// says what goes wrong itself, and boot.js only keeps the uncaught errors (for the tests).
(function () {
  'use strict';

  // The trainer needs these; every one is older than wasm SIMD128, so the versions that have SIMD
  // (Safari 16.4, Firefox 89, Chrome 91) have them all.
  var minimum = 'Safari 16.4, Firefox 89 or Chrome 91, or newer';

  // A module of one function that returns a v128 constant: it validates only where the browser
  // has wasm SIMD128, which main.wasm uses (Go's GOEXPERIMENT=simd kernels).
  var simdModule = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // functions: one of type 0
    0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: v128.const
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 16 zero bytes, end
  ]);

  // missing lists what the trainer needs and this browser lacks.
  function missing() {
    var out = [];
    var wasm = typeof WebAssembly === 'object' && WebAssembly !== null;
    if (!wasm) out.push('WebAssembly');
    else {
      var simd = false;
      try {
        simd = WebAssembly.validate(simdModule);
      } catch (e) {
        simd = false;
      }
      if (!simd) out.push('WebAssembly SIMD (SIMD128)');
    }
    if (typeof Worker !== 'function') out.push('Web Workers');
    if (typeof MessageChannel !== 'function') out.push('MessageChannel');
    if (typeof fetch !== 'function') out.push('fetch');
    if (typeof ResizeObserver !== 'function') out.push('ResizeObserver');
    if (typeof TextDecoder !== 'function') out.push('TextDecoder');
    return out;
  }

  // Under a C locale WebKitGTK reports navigator.language as "C", which no Intl constructor takes:
  // the chart library (uPlot) formats its numbers with new Intl.NumberFormat(navigator.language)
  // as its module is evaluated, and would throw, stopping every module that imports it. Where the
  // tag is not a valid one, the page reads "en-US" instead.
  var localeFallback = null; // the tag that was replaced, if one was
  try {
    new Intl.NumberFormat(navigator.language);
  } catch (e) {
    try {
      localeFallback = String(navigator.language);
      Object.defineProperty(navigator, 'language', { value: 'en-US', configurable: true });
    } catch (e2) {
      localeFallback = null; // app.js fails to load, and the status says why
    }
  }

  var isReady = false;
  var errors = []; // every uncaught error and rejection, as text

  function show(text) {
    var status = document.getElementById('status');
    if (!status) return;
    status.textContent = text;
    status.className = 'error';
  }

  // fail shows why the page cannot start, unless the page is ready (it then says itself).
  function fail(text) {
    if (!isReady) show(text);
  }

  var describe = function (err) {
    if (err && typeof err === 'object' && err.message) return (err.name ? err.name + ': ' : '') + err.message;
    return String(err);
  };

  window.addEventListener('error', function (e) {
    // Errors of scripts of other origins come without their message; a failed resource (an
    // image, a stylesheet) fires no error here.
    var text = e.error ? describe(e.error) : e.message || 'an error without a message';
    errors.push(text);
    fail('The trainer stopped before it was ready: ' + text + '. Reload the page to try again.');
  });
  window.addEventListener('unhandledrejection', function (e) {
    var text = describe(e.reason);
    errors.push(text);
    fail('The trainer stopped before it was ready: ' + text + '. Reload the page to try again.');
  });

  // What the page and the tests read: the browser's language tag that was replaced (or null),
  // the uncaught errors so far, whether the page's modules were all fetched (fetched.js sets it),
  // and ready(), which app.js calls once the page is ready.
  window.mnistBoot = {
    localeFallback: localeFallback,
    errors: errors,
    fetched: false,
    ready: function () {
      isReady = true;
    },
  };

  var lacking = missing();
  if (lacking.length) {
    var start = function () {
      show('This browser cannot run the trainer: it lacks ' + lacking.join(', ') + '. The trainer needs ' + minimum + '.');
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
    return;
  }

  // A module that cannot be fetched rejects with a TypeError, worded as each browser likes, before
  // any module runs; one that throws while it is evaluated rejects with what it threw, after
  // fetched.js has run.
  import('./app.js').catch(function (err) {
    var text = describe(err);
    errors.push(text);
    if (err instanceof TypeError && !window.mnistBoot.fetched) {
      fail('The page’s scripts could not be loaded (' + text + '). Check the connection, then reload the page.');
    } else {
      fail('The trainer could not start: ' + text + '. Reload the page to try again.');
    }
  });
})();
