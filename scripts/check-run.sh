#!/usr/bin/env bash
# Checks the README's first command as a newcomer runs it (.ci/run calls this after make test):
# starts `make run` on a free loopback port from this plain shell, waits until it serves, then
# TestServedPage (pagetest/) fetches the page, main.wasm and one MNIST file and opens the page in
# headless Chromium until it says Ready; the server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
start=$SECONDS
# A process group of its own, so that stopping make also stops its child `go run` and the server.
setsid make run ADDR=127.0.0.1:0 >"$log" 2>&1 &
pid=$!
stop() {
	kill -TERM -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$log"
}
trap stop EXIT
fail() {
	cat "$log" >&2
	echo "check-run: $*" >&2
	exit 1
}

# The server logs "serving web and MNIST files from DIR at http://127.0.0.1:PORT/" once it listens.
url=
while [[ -z $url ]]; do
	kill -0 "$pid" 2>/dev/null || fail "make run exited before serving"
	((SECONDS - start < 600)) || fail "make run did not serve within 10 minutes"
	sleep 1
	url=$(sed -n 's|.* at \(http://127\.0\.0\.1:[0-9]*/\)$|\1|p' "$log" | head -1)
done
echo "check-run: make run serves $url after $((SECONDS - start)) s"

# Only this go command gets the project's toolchain: make run above ran as the reader runs it.
out=$(GOTOOLCHAIN=go1.27.3 go test -count=1 -run '^TestServedPage$' -v ./pagetest -args -page-url "$url" 2>&1) ||
	{ echo "$out" >&2; fail "the page make run serves did not become ready"; }
grep -E '^\s+browser_served_test' <<<"$out" | sed 's/^ *browser_served_test.go:[0-9]*: /check-run: /'
kill -0 "$pid" 2>/dev/null || fail "make run stopped while the page was open"
echo "check-run: make run serves a page that says Ready ($((SECONDS - start)) s in all)"
