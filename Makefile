# The in-browser MNIST trainer. `make run` serves it, `make test` runs every check; both set up
# what they need on a fresh machine (Go modules, the MNIST files, Chromium for the browser tests).

.PHONY: run test fuzz loadtest wasm web site train train-xla bench deps kernels clean

# Go 1.27.3, fetched by the go command itself on first use (the machines start on 1.26 with
# GOTOOLCHAIN=local), with its SIMD packages switched on: our kernels for GoMLX's pure-Go backend
# need both (kernels/README.md).
#
# Only recipes see these exports: GNU Make before 4.4 does not pass them to $(shell …), which
# would run the reader's own Go. So nothing here is computed at parse time: a recipe asks the go
# command itself for its GOROOT, and the programs find MNIST themselves (internal/mnistdir).
# internal/buildcheck tests that this stays so.
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd
# Tests that the kernels are really in use where this says so (kernels/inuse_test.go, the page).
export MNIST_EXPECT_SIMD := 1

ADDR   ?= 127.0.0.1:8080
SITE_DIR ?= dist
EPOCHS ?= 2
BACKEND ?= xla:cuda
FUZZTIME ?= 3s
export FUZZTIME

# Serve the page on http://$(ADDR).
run: wasm
	go run ./serve -addr $(ADDR)

# Native tests, the model package and the packages it uses (mnist, safetensors, report) again
# under js/wasm (Node), the browser tests (pagetest, Chromium), and each fuzz target for
# $(FUZZTIME). The kernels are tested natively and under js/wasm, and the model once more without
# them; the trainer's session (session/) natively and under js/wasm, its JS adapter (wasm/) under
# js/wasm only.
test: deps wasm
	go vet ./... github.com/gomlx/gomlx/backends/simplego
	GOOS=js GOARCH=wasm go vet ./model ./mnist ./safetensors ./report ./session ./wasm ./kernels github.com/gomlx/gomlx/backends/simplego
	CGO_ENABLED=1 go vet -tags xla ./cmd/train
	go test -count=1 -timeout 20m $$(go list ./... | grep -v '/pagetest$$')
	# The page in Chromium after the other packages, not beside them: its tests time how quickly
	# the page answers (a timer late by more than a second fails), which the model's tests, running
	# on the same two cores, disturbed (a timer 1.2 s late once, in a fresh clone's CI).
	go test -count=1 -timeout 20m ./pagetest
	# Under js/wasm the tests run in Node, through the runner of the toolchain that builds them, and
	# cannot run the go command, so they are told where MNIST is.
	wasmexec="$$(go env GOROOT)/lib/wasm/go_js_wasm_exec" && \
	export MNIST_DIR="$$(go run ./cmd/mnistdir)" && \
	GOOS=js GOARCH=wasm go test -count=1 -exec "$$wasmexec" ./kernels ./mnist ./safetensors ./report ./session ./wasm && \
	GOOS=js GOARCH=wasm go test -count=1 -exec "$$wasmexec" \
		-run 'Dataset|Config|OneTrainingStep|SaveLoad|Sharded|SameBits|Seed|Kernels|Winograd|MaxPool|Augment|Digits|TrainSource|Adam' ./model
	GOEXPERIMENT= MNIST_EXPECT_SIMD= go test -count=1 -run 'ConvAndPool|MaxPool|OneTrainingStep|LossFalls|Sharded|Adam' ./model ./kernels
	scripts/fuzz.sh
	scripts/browsers.sh

# Every fuzz target for $(FUZZTIME) each: make fuzz FUZZTIME=60s
fuzz:
	scripts/fuzz.sh

# 200 clients for 30 s against the real server on 127.0.0.1 (wrk); figures in BENCHMARKS.md
loadtest:
	scripts/loadtest.sh

# Speed figures, one JSON line each: native training and inference, then the page in Chromium.
bench: deps wasm
	scripts/bench.sh

# Build the browser binary, its loader, and precompressed copies for the server. main.wasm and
# wasm_exec.js must come from one toolchain (a mismatched loader fails at start-up): both are taken
# from the GOROOT of the go command this recipe runs.
wasm: kernels web
	goroot="$$(go env GOROOT)" && \
	GOOS=js GOARCH=wasm "$$goroot/bin/go" build -trimpath -ldflags='-s -w' -o web/main.wasm ./wasm && \
	cp "$$goroot/lib/wasm/wasm_exec.js" web/wasm_exec.js
	go run ./serve -precompress web/main.wasm

# A folder any static file host serves, with no Go server: make site SITE_DIR=public
site: wasm
	go run ./serve -site $(SITE_DIR)

# The page's front-end libraries, pinned in package-lock.json (uPlot, for the loss charts), copied
# into web/vendor/ (gitignored).
web: web/vendor/uPlot.esm.js

web/vendor/uPlot.esm.js: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p web/vendor
	cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css web/vendor/
	cp node_modules/uplot/LICENSE web/vendor/uPlot.LICENSE

# Train natively on the pure-Go backend: make train EPOCHS=1
train: kernels
	go run ./cmd/train -epochs $(EPOCHS)

# Train on XLA (cgo; a PJRT plugin for $(BACKEND)): make train-xla BACKEND=xla:cuda EPOCHS=1
train-xla: kernels
	CGO_ENABLED=1 go run -tags xla ./cmd/train -backend $(BACKEND) -epochs $(EPOCHS)

# vendor/ (gitignored): the modules, with kernels/_simplego/ added to GoMLX's simplego.
kernels:
	scripts/simd-vendor.sh

deps: kernels
	go mod download
	@command -v chromium >/dev/null || { echo "Installing Chromium for the browser tests"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	scripts/browsers.sh install

clean:
	rm -f web/main.wasm web/main.wasm.gz web/main.wasm.br web/wasm_exec.js mnist.safetensors
	rm -rf vendor web/vendor node_modules
