#!/bin/sh
# The page in Firefox and WebKit (browsers/*.test.mjs, node --test): Chromium has the Go tests
# (pagetest/). `scripts/browsers.sh install` installs Debian's firefox-esr, webkit2gtk-driver
# (WebKitWebDriver and MiniBrowser) and xvfb where one is missing, and the pinned clients
# (npm ci); with no argument it also runs the tests, on a server it builds, under
# a virtual X server (WebKitGTK needs a display). Run from the repository root, after make wasm.
set -eu

missing=""
command -v firefox-esr >/dev/null || missing="$missing firefox-esr"
command -v WebKitWebDriver >/dev/null || missing="$missing webkit2gtk-driver"
command -v xvfb-run >/dev/null || missing="$missing xvfb xauth"
if [ -n "$missing" ]; then
	echo "Installing$missing for the Firefox and WebKit tests"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
[ -d node_modules/puppeteer-core ] && [ -d node_modules/selenium-webdriver ] ||
	npm ci --no-audit --no-fund --loglevel=error
[ "${1:-}" = install ] && exit 0

[ -f web/main.wasm ] || { echo "web/main.wasm is missing: run make wasm first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/serve" ./serve
# The engines one after the other: the quick run in each wants the cores to itself. Each keeps
# its quick run's result in $MNIST_RESULTS; then samebits.test.mjs compares them with Chromium's.
export MNIST_SERVE="$tmp/serve" MNIST_RESULTS="$tmp"
xvfb-run -a node --test --test-concurrency=1 --test-reporter=spec browsers/firefox.test.mjs browsers/webkit.test.mjs
node --test --test-reporter=spec browsers/trainset.test.mjs browsers/samebits.test.mjs
