// Package pagetest holds the end-to-end tests of the page in headless Chromium (chromedp): the
// page served by the real server on 127.0.0.1, checked as a person would see it (it loads, the
// loss falls, the report fills in, the canvases are drawn), with its faults, offline copy, runs,
// embedding and benchmarks. It has no code of its own.
//
// The server is the serve command, built once per test binary and run as a process of its own,
// as scripts/browsers.sh runs it for the Firefox and WebKit tests (browsers/). The page's build
// must be there: run make wasm first. Chromium is Debian's package, which make deps installs.
//
//	go test ./pagetest
//	go test -run '^TestServedPage$' ./pagetest -args -page-url http://127.0.0.1:PORT/
//	BENCH=1 go test -count=1 -run '^TestBrowserBench$' -v ./pagetest | grep '^{'
package pagetest
