#!/usr/bin/env bash
# Makes vendor/ (gitignored) with `go mod vendor` and adds this project's SIMD kernels to
# GoMLX's pure-Go backend: the files in kernels/_simplego/ join package simplego there, with
# SelectAndScatterMax, the gradient of MaxPool, which simplego lacks. Nothing of GoMLX is edited;
# `make clean` removes vendor/. A build without GOEXPERIMENT=simd runs simplego's own executors
# and that op; a build without vendor/ runs simplego as shipped, which the model refuses (it
# cannot differentiate MaxPool). See kernels/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
dst=vendor/github.com/gomlx/gomlx/backends/simplego
go mod vendor
for f in kernels/_simplego/*.go; do
	if [ -e "$dst/$(basename "$f")" ]; then
		echo "simd-vendor: $f would replace a file of simplego" >&2
		exit 1
	fi
	cp "$f" "$dst/"
done
