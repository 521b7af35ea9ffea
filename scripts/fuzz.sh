#!/usr/bin/env bash
# Runs every fuzz target in the module for $FUZZTIME each, one after the
# other, since `go test -fuzz` takes one target per run. `make test` runs it
# for 3 s a target; `make fuzz FUZZTIME=60s` runs it longer.
#
# A failing input is written to the package's testdata/fuzz/<target>/ (commit
# it with the fix, so that `go test` replays it from then on) and the script
# exits 1. Inputs the fuzzer finds interesting go to Go's cache, not the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
# Go 1.27.3 with its SIMD packages, as in the Makefile (kernels/README.md).
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=${GOEXPERIMENT-simd}

FUZZTIME=${FUZZTIME:-3s}
# Go minimises each new interesting input before adding it to the corpus,
# for up to 60 s by default, and minimising is quadratic in the input's size:
# a 2 KB weights file swallows a short run without a single new exec, and
# even 2 s each left FuzzLoadWeights 22,000 execs in 60 s instead of 400,000.
# A few hundred tries keep the corpus small enough; a failing input is
# written out whether or not minimising finished.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-200x}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$SECONDS
for pkg in $(go list ./...); do
	if ! go test -list '^Fuzz' "$pkg" >"$out" 2>&1; then
		cat "$out"
		echo "fuzz: cannot list the fuzz targets of $pkg" >&2
		exit 1
	fi
	for target in $(grep '^Fuzz' "$out" || true); do
		if ! go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" >"$out" 2>&1; then
			cat "$out"
			echo "fuzz: $target in $pkg failed; the input is in its testdata/fuzz/$target/" >&2
			exit 1
		fi
		# The last progress line reads "fuzz: elapsed: 3s, execs: 12345 (0/sec), new interesting: 2 (total: 19)".
		last=$(grep '^fuzz: elapsed:' "$out" | tail -1)
		execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
		found=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
		printf 'fuzz: %-24s %-45s %9s execs in %s, %s new interesting inputs\n' "$target" "$pkg" "${execs:-?}" "$FUZZTIME" "${found:-?}"
	done
done
echo "fuzz: every target passed in $((SECONDS - start)) s"
