#!/usr/bin/env bash
# Load test of the real server binary (issue 5), run by `make loadtest`:
# $CLIENTS concurrent connections for $DURATION, on 127.0.0.1 only, each
# fetching in turn main.wasm (with the Accept-Encoding browsers send, so the
# .br variant, and with identity) and the four MNIST files, using wrk
# (scripts/loadtest.lua). It prints a summary, then one JSON line, and exits 1
# if any request failed. The figures are recorded in BENCHMARKS.md.
#
#   scripts/loadtest.sh                            # 200 clients for 30 s
#   CLIENTS=20 DURATION=5s scripts/loadtest.sh     # a quick look
#
# Errors are wrk's socket errors (connect, read, write), its timeouts (a
# response slower than $TIMEOUT) and every response logged by the server with
# a status other than 2xx. Requests still in flight when wrk stops are cut by
# wrk itself; the server logs them short, and they are counted apart.
set -euo pipefail
cd "$(dirname "$0")/.."
# Go 1.27.3 with its SIMD packages, as in the Makefile (kernels/README.md).
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=${GOEXPERIMENT-simd}

CLIENTS=${CLIENTS:-200}
DURATION=${DURATION:-30s}
TIMEOUT=${TIMEOUT:-10s}
THREADS=${THREADS:-$(nproc)}
OUT=${OUT:-out/loadtest} # the server's log and wrk's report are kept here

missing=$(for cmd in wrk curl; do command -v "$cmd" >/dev/null || echo "$cmd"; done)
if [[ -n $missing ]]; then
	echo "Installing" $missing "for the load test"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
if [[ ! -f web/main.wasm ]]; then
	make wasm
elif [[ web/main.wasm -nt web/main.wasm.br ]]; then
	# Missing, or older than main.wasm (a rebuild): the server would ignore it.
	go run ./serve -precompress web/main.wasm
fi
mkdir -p "$OUT" bin
go build -o bin/serve ./serve

# Port 0: the kernel picks a free port and the server logs it.
log=$OUT/server.log
bin/serve -addr 127.0.0.1:0 -web web 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
addr=
for _ in $(seq 300); do
	addr=$(sed -n 's|^.* at http://\(127\.0\.0\.1:[0-9]*\)/$|\1|p' "$log")
	[[ -n $addr ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "loadtest: the server did not start" >&2; exit 1; }
	sleep 0.1
done
[[ -n $addr ]] || { cat "$log"; echo "loadtest: the server did not start in 30 s" >&2; exit 1; }
if grep -q warning "$log"; then
	cat "$log"; echo "loadtest: the server is missing files" >&2; exit 1
fi

# The targets, each "PATH|ACCEPT-ENCODING|CODING": CODING is the
# Content-Encoding the server must choose. Each is fetched once first, to
# check it and to learn its full size.
browser="gzip, deflate, br, zstd" # what Chrome and Firefox send
targets=(
	"/main.wasm|$browser|br"
	"/main.wasm|identity|"
	"/data/train-images-idx3-ubyte.gz|$browser|"
	"/data/train-labels-idx1-ubyte.gz|$browser|"
	"/data/t10k-images-idx3-ubyte.gz|$browser|"
	"/data/t10k-labels-idx1-ubyte.gz|$browser|"
)
wrk_args=()
: >"$OUT/sizes"
for t in "${targets[@]}"; do
	IFS='|' read -r path accept coding <<<"$t"
	read -r status size got < <(curl -sS -o /dev/null -H "Accept-Encoding: $accept" \
		-w '%{http_code} %{size_download} %header{content-encoding}\n' "http://$addr$path")
	if [[ $status != 200 || ${got:-} != "$coding" ]]; then
		echo "loadtest: GET $path (Accept-Encoding: $accept): status $status, Content-Encoding '${got:-}', want 200, '$coding'" >&2
		exit 1
	fi
	echo "$path ${coding:-identity} $size" >>"$OUT/sizes"
	wrk_args+=("$path $accept")
done
before=$(grep -c '" 200 ' "$log" || true)

echo "wrk: $CLIENTS connections, $THREADS threads, $DURATION, timeout $TIMEOUT, http://$addr"
wrk --threads "$THREADS" --connections "$CLIENTS" --duration "$DURATION" --timeout "$TIMEOUT" \
	--latency --script scripts/loadtest.lua "http://$addr" -- "${wrk_args[@]}" | tee "$OUT/wrk.txt"

# VmHWM: the peak resident set size of the server over its whole life, in kB.
peak_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || true
trap - EXIT

read -r _ requests bytes duration_us connect_err read_err write_err timeouts status_err p50 p90 p99 max \
	< <(grep '^WRK ' "$OUT/wrk.txt")

# From the server's log, after the warm-up fetches: responses, non-2xx ones,
# the ones cut short (wrk stopping mid-download), and per target the time the
# server took to send a whole file. A line reads:
#   DATE TIME GET "/main.wasm" 200 1696529B 12.345ms 127.0.0.1:40000
: >"$OUT/per-target"
awk -v skip="$before" -v per="$OUT/per-target" '
function ms(d,  m) {
	if (d ~ /µs$/) { sub(/µs$/, "", d); return d / 1000 }
	if (d ~ /ms$/) { sub(/ms$/, "", d); return d + 0 }
	if (d ~ /ns$/) { sub(/ns$/, "", d); return d / 1e6 }
	if (d ~ /^[0-9.]+s$/) { sub(/s$/, "", d); return d * 1000 }
	if (match(d, /^[0-9]+m/)) { m = substr(d, 1, RLENGTH - 1); return m * 60000 + ms(substr(d, RLENGTH + 1)) }
	return 0
}
FNR == NR { size[$1 " " $2] = $3; next }
$3 != "GET" || $6 !~ /B$/ { next }
++n <= skip { next }
{
	path = $4; gsub(/"/, "", path); bytes = $6 + 0
	responses++
	if ($5 !~ /^2/) { non2xx++; next }
	if (bytes == size[path " br"]) key = path " br"
	else if (bytes == size[path " identity"]) key = path " identity"
	else { cut++; next }
	print key, ms($7) > per
}
END { printf "%d %d %d\n", responses, non2xx, cut }
' "$OUT/sizes" "$log" >"$OUT/server-counts"
read -r responses non2xx cut <"$OUT/server-counts"

errors=$((connect_err + read_err + write_err + timeouts + non2xx))
seconds=$(awk -v us="$duration_us" 'BEGIN { printf "%.2f", us / 1e6 }')
rps=$(awk -v n="$requests" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')
bps=$(awk -v n="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
msf() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

echo
echo "Load test: $CLIENTS clients for ${seconds} s on 127.0.0.1 ($(nproc) cores, wrk with $THREADS threads on the same machine)"
echo "  requests   $requests completed, $rps/s, $(awk -v b="$bps" 'BEGIN { printf "%.0f MB/s", b / 1e6 }')"
echo "  errors     $errors (non-2xx $non2xx, connect $connect_err, read $read_err, write $write_err, timeouts over $TIMEOUT $timeouts)"
echo "  latency    p50 $(msf "$p50") ms, p90 $(msf "$p90") ms, p99 $(msf "$p99") ms, max $(msf "$max") ms"
echo "  server     peak RSS $((peak_kb / 1024)) MiB (VmHWM); $responses responses logged, $cut cut short when wrk stopped"
echo "  per target, server-side time to send the whole file (from its log):"
sort -k1,1 -k2,2 -k3,3n "$OUT/per-target" | awk '
function flush() { if (n) printf "    %-40s %6d   p50 %8.2f ms   p99 %8.2f ms\n", key, n, v[int((n - 1) * 0.5) + 1], v[int((n - 1) * 0.99) + 1] }
{ k = $1 " " $2; if (k != key) { flush(); key = k; n = 0 } v[++n] = $3 }
END { flush() }'
printf '{"clients":%d,"duration_s":%s,"threads":%d,"requests":%d,"errors":%d,"non_2xx":%d,"socket_errors":%d,"timeouts":%d,' \
	"$CLIENTS" "$seconds" "$THREADS" "$requests" "$errors" "$non2xx" $((connect_err + read_err + write_err)) "$timeouts"
printf '"latency_p50_ms":%s,"latency_p90_ms":%s,"latency_p99_ms":%s,"latency_max_ms":%s,"requests_per_s":%s,"bytes_per_s":%s,' \
	"$(msf "$p50")" "$(msf "$p90")" "$(msf "$p99")" "$(msf "$max")" "$rps" "$bps"
printf '"peak_rss_kib":%d,"server_responses":%d,"cut_at_end":%d,"nproc":%d}\n' "$peak_kb" "$responses" "$cut" "$(nproc)"

[[ $errors -eq 0 ]] || { echo "loadtest: $errors errors" >&2; exit 1; }
