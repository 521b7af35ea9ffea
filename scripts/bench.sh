#!/usr/bin/env bash
# make bench: every speed figure as one JSON line — native (cmd/bench), then the page in headless
# Chromium (pagetest/browser_bench_test.go), then in Firefox and WebKit (browsers/bench.mjs), each
# against the real server on 127.0.0.1; browser figures name their engine. Last, the same network
# in TensorFlow.js's wasm backend in headless Chromium and in WebKit (browsers/tfjs-bench.mjs), and
# the kernels' own benchmarks and the model's training steps in each engine's worker
# (browsers/kernelbench.mjs).
# The figures and what they mean are recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Go 1.27.3 with its SIMD packages, as in the Makefile (kernels/README.md).
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=${GOEXPERIMENT-simd}
go run ./cmd/bench
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! BENCH=1 go test -count=1 -timeout 20m -run '^TestBrowserBench(Experiments)?$' -v ./pagetest >"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
grep '^{' "$log"
scripts/browsers.sh install >&2
serve=$(mktemp)
kernels=$(mktemp)
steps=$(mktemp)
trap 'rm -f "$log" "$serve" "$kernels" "$steps"' EXIT
go build -o "$serve" ./serve
MNIST_SERVE="$serve" xvfb-run -a node browsers/bench.mjs
# The same network in TensorFlow.js's wasm backend, side by side (BENCHMARKS.md); its packages
# are pinned in package-lock.json.
[ -d node_modules/@tensorflow/tfjs-backend-wasm ] || npm ci --no-audit --no-fund --loglevel=error >&2
xvfb-run -a node browsers/tfjs-bench.mjs
GOOS=js GOARCH=wasm go test -c -o "$kernels" ./kernels
KERNELS_TEST="$kernels" xvfb-run -a node browsers/kernelbench.mjs
# A training step the same way, a worker alone's and a worker's of a team of two without the
# messages between them: how much of an engine's images/s is its compute.
GOOS=js GOARCH=wasm go test -c -o "$steps" ./model
KERNELS_TEST="$steps" KERNELS_BENCH='^Benchmark(Train|Shard)Step$' KERNELS_BENCHTIME=100x KERNELS_FIGURE=step \
	MNIST_DIR="$(go run ./cmd/mnistdir)" xvfb-run -a node browsers/kernelbench.mjs
