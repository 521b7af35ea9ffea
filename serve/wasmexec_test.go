package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmExecFromMainWasmsToolchain checks that the page's loader matches its program: the
// wasm_exec.js the server sends for the built page (make wasm) is byte for byte the one in
// lib/wasm of the Go toolchain that compiled web/main.wasm. A loader from another Go release is a
// known way for a Go wasm program to fail at start-up, and the reader's own Go is often older
// than the one go.mod asks for.
func TestWasmExecFromMainWasmsToolchain(t *testing.T) {
	wasm, err := os.ReadFile("../web/main.wasm")
	if err != nil {
		t.Fatal("web/main.wasm is missing: run make wasm first")
	}
	version, err := wasmGoVersion(wasm)
	if err != nil {
		t.Fatalf("web/main.wasm: %v", err)
	}
	goEnv := exec.Command("go", "env", "GOROOT")
	goEnv.Env = append(os.Environ(), "GOTOOLCHAIN="+version)
	out, err := goEnv.Output()
	if err != nil {
		t.Fatalf("GOTOOLCHAIN=%s go env GOROOT: %v", version, err)
	}
	want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}

	m := startMain(t, "-web", "../web")
	resp, body := get(t, m, "/wasm_exec.js")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /wasm_exec.js: status %d", resp.StatusCode)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("GET /wasm_exec.js: %d bytes that differ from %s's lib/wasm/wasm_exec.js (%d bytes), which built main.wasm",
			len(body), version, len(want))
	}
	t.Logf("main.wasm was built by %s, and wasm_exec.js is its own", version)
}

// wasmGoVersion returns the Go release that compiled a WebAssembly module (such as go1.27.3),
// from the module's "producers" custom section, where Go's linker writes
// "language: Go <version>". (go version and debug/buildinfo do not read wasm files.)
func wasmGoVersion(wasm []byte) (string, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return "", errors.New("not a WebAssembly module")
	}
	r := wasmReader{b: wasm[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		section := wasmReader{b: r.bytes()}
		if r.err != nil {
			return "", r.err
		}
		if id != 0 || section.name() != "producers" {
			continue
		}
		for fields := section.uint(); fields > 0 && section.err == nil; fields-- {
			field := section.name()
			for values := section.uint(); values > 0 && section.err == nil; values-- {
				name, version := section.name(), section.name()
				if field == "language" && name == "Go" && section.err == nil {
					return version, nil
				}
			}
		}
		if section.err != nil {
			return "", fmt.Errorf("producers section: %w", section.err)
		}
	}
	return "", errors.New("no producers section naming the Go release")
}

// wasmReader reads the binary format's integers and strings, keeping the first error.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uint reads an unsigned LEB128 integer.
func (r *wasmReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length-prefixed byte string.
func (r *wasmReader) bytes() []byte {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *wasmReader) name() string { return string(r.bytes()) }

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated WebAssembly module")
	}
	r.b = nil
}

func TestWasmGoVersion(t *testing.T) {
	// A module with a type section, then the producers section Go writes.
	producers := []byte("\x09producers\x02\x08language\x01\x02Go\x08go1.99.1\x0cprocessed-by\x01\x02Go\x08go1.99.1")
	module := append([]byte("\x00asm\x01\x00\x00\x00\x01\x01\x00\x00"), byte(len(producers)))
	module = append(module, producers...)
	if v, err := wasmGoVersion(module); v != "go1.99.1" || err != nil {
		t.Errorf("wasmGoVersion = %q, %v; want go1.99.1", v, err)
	}
	for _, bad := range [][]byte{nil, []byte("\x7fELF...."), module[:len(module)-3], module[:10]} {
		if v, err := wasmGoVersion(bad); err == nil {
			t.Errorf("wasmGoVersion(%q) = %q, want an error", bad, v)
		}
	}
}
