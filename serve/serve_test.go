package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/mnist"
)

const secret = "TOP SECRET, outside the web root"

// fakeWasm is a stand-in main.wasm: the wasm magic, then compressible text.
var fakeWasm = append([]byte("\x00asm\x01\x00\x00\x00"),
	bytes.Repeat([]byte("fake wasm code section, compressible; "), 2000)...)

// writeFile writes data to the file at p, creating its folder.
func writeFile(tb testing.TB, p string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// newWebDir builds a web folder with a page, a fake main.wasm with variants
// made by the -precompress code, a dotfile, a subfolder and symbolic links
// in and out of it. A secret file lies next to it, in ../outside.
func newWebDir(tb testing.TB) string {
	tb.Helper()
	top := tb.TempDir()
	web := filepath.Join(top, "web")
	outside := filepath.Join(top, "outside")
	writeFile(tb, filepath.Join(outside, "secret.txt"), []byte(secret))
	files := map[string]string{
		"index.html":     "<!doctype html><title>MNIST</title>",
		"app.js":         "console.log('app');",
		"style.css":      "body { margin: 0 }",
		"data.json":      `{"ok": true}`,
		"icon.png":       "\x89PNG\r\n\x1a\n",
		"pic.svg":        "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"worker.js":      "onmessage = () => {};",
		".secret":        secret,
		".git/config":    secret,
		"sub/page.html":  "<p>sub page</p>",
		"sub/.hidden":    secret,
		"main.wasm":      string(fakeWasm),
		"other.txt":      "no variants",
		"noext":          "no extension",
		"unknown.zzzzzz": "unknown extension",
	}
	for name, content := range files {
		writeFile(tb, filepath.Join(web, name), []byte(content))
	}
	for _, enc := range encodings {
		if _, _, err := compressFile(context.Background(), filepath.Join(web, "main.wasm"), enc); err != nil {
			tb.Fatal(err)
		}
	}
	links := map[string]string{
		"link-abs":    filepath.Join(outside, "secret.txt"), // absolute, outside
		"link-rel":    "../outside/secret.txt",              // relative, outside
		"link-dir":    "../outside",                         // a folder outside
		"link-in":     "app.js",                             // stays inside: allowed
		"link-abs-in": filepath.Join(web, "app.js"),         // absolute, even inside: refused by os.Root
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(web, name)); err != nil {
			tb.Skipf("symbolic links unsupported: %v", err)
		}
	}
	return web
}

// newDataDir returns a folder holding the four MNIST files, copied from
// mnistdir.Find() when available (real reports whether they are), else
// small stand-ins, plus an extra .gz file that must not be served.
func newDataDir(tb testing.TB) (dir string, real bool) {
	tb.Helper()
	dir = tb.TempDir()
	src, err := mnistdir.Find()
	if err != nil {
		tb.Logf("no MNIST files (%v): using stand-ins", err)
	}
	real = err == nil
	for _, f := range mnist.KnownFiles {
		data := []byte("stand-in for " + f.Name)
		if real {
			if data, err = os.ReadFile(filepath.Join(src, f.Name)); err != nil {
				tb.Fatal(err)
			}
		}
		writeFile(tb, filepath.Join(dir, f.Name), data)
	}
	writeFile(tb, filepath.Join(dir, "extra.gz"), []byte(secret))
	writeFile(tb, filepath.Join(dir, ".hidden"), []byte(secret))
	return dir, real
}

// startMain runs the real program in-process on 127.0.0.1:0 with the given
// extra flags, logging to the test's output, and closes it at cleanup.
func startMain(tb testing.TB, args ...string) *Main {
	tb.Helper()
	return startMainLog(tb, tb.Output(), args...)
}

// startMainLog is startMain with the log sent to w.
func startMainLog(tb testing.TB, w io.Writer, args ...string) *Main {
	tb.Helper()
	return startMainWith(tb, w, nil, args...)
}

// startMainWith is startMainLog with configure, if not nil, applied to Main
// after its flags and before Run: tests shorten its timeouts that way.
func startMainWith(tb testing.TB, w io.Writer, configure func(*Main), args ...string) *Main {
	tb.Helper()
	m := NewMain()
	m.Log = w
	if err := m.ParseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...)); err != nil {
		tb.Fatal(err)
	}
	if configure != nil {
		configure(m)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Error(err)
		}
	})
	return m
}

// startServer builds a web and a data folder and serves them.
func startServer(tb testing.TB, args ...string) (m *Main, web, data string) {
	tb.Helper()
	web = newWebDir(tb)
	data, _ = newDataDir(tb)
	return startMain(tb, append([]string{"-web", web, "-data", data}, args...)...), web, data
}

// client does not ask for compression by itself, so tests see the
// Content-Encoding the server chose.
var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// do sends method target to m with header lines "Key: value" and returns
// the response with its body read. The target is sent as is (URL.Opaque),
// without the client cleaning it.
func do(tb testing.TB, m *Main, method, target string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, "http://"+m.Addr()+"/", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.URL.Opaque = target
	for _, h := range header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

func get(tb testing.TB, m *Main, target string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	return do(tb, m, http.MethodGet, target, header...)
}

// rawGet writes a GET request line with target byte for byte on a fresh
// connection and returns the response with its body read.
func rawGet(tb testing.TB, m *Main, target string) (*http.Response, []byte) {
	tb.Helper()
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, m.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

// checkSecurityHeaders checks the headers every response must carry.
func checkSecurityHeaders(tb testing.TB, resp *http.Response, frameAncestors string) {
	tb.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
			"connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
			"base-uri 'none'; form-action 'none'; frame-ancestors " + frameAncestors,
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			tb.Errorf("%s %s: %s = %q, want %q", resp.Request.Method, resp.Request.URL, k, got, v)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	m, _, _ := startServer(t)
	tests := []struct {
		path, ctype, body string
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html><title>MNIST</title>"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html><title>MNIST</title>"},
		{"/app.js", "text/javascript; charset=utf-8", "console.log('app');"},
		{"/app.js?v=2", "text/javascript; charset=utf-8", "console.log('app');"},
		{"/worker.js", "text/javascript; charset=utf-8", "onmessage = () => {};"},
		{"/style.css", "text/css; charset=utf-8", "body { margin: 0 }"},
		{"/data.json", "application/json", `{"ok": true}`},
		{"/icon.png", "image/png", "\x89PNG\r\n\x1a\n"},
		{"/pic.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"},
		{"/sub/page.html", "text/html; charset=utf-8", "<p>sub page</p>"},
		{"/main.wasm", "application/wasm", string(fakeWasm)},
		{"/noext", "application/octet-stream", "no extension"},
		{"/link-in", "application/octet-stream", "console.log('app');"}, // symlink inside the root
	}
	for _, tt := range tests {
		resp, body := get(t, m, tt.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tt.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
		}
		if string(body) != tt.body {
			t.Errorf("GET %s: body %.40q, want %.40q", tt.path, body, tt.body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", tt.path, got)
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("GET %s: no ETag or Last-Modified: %v", tt.path, resp.Header)
		}
		checkSecurityHeaders(t, resp, "*")
	}

	resp, body := do(t, m, http.MethodHead, "/main.wasm")
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(fakeWasm)) {
		t.Errorf("HEAD /main.wasm: status %d, %d body bytes, Content-Length %d; want 200, 0, %d",
			resp.StatusCode, len(body), resp.ContentLength, len(fakeWasm))
	}
}

func TestConditionalAndRange(t *testing.T) {
	m, _, _ := startServer(t)
	resp, _ := get(t, m, "/app.js")
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong entity tag", etag)
	}

	for _, h := range []string{"If-None-Match: " + etag, "If-None-Match: \"x\", " + etag, "If-Modified-Since: " + lastMod} {
		resp, body := get(t, m, "/app.js", h)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET /app.js with %s: status %d, %d body bytes; want 304, none", h, resp.StatusCode, len(body))
		}
		checkSecurityHeaders(t, resp, "*")
	}
	if resp, _ := get(t, m, "/app.js", `If-None-Match: "other"`); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /app.js with another ETag: status %d, want 200", resp.StatusCode)
	}

	// Each variant of main.wasm has its own ETag, and revalidates with it.
	etags := map[string]string{}
	for _, ae := range []string{"identity", "gzip", "br"} {
		resp, _ := get(t, m, "/main.wasm", "Accept-Encoding: "+ae)
		etags[ae] = resp.Header.Get("ETag")
		resp, _ = get(t, m, "/main.wasm", "Accept-Encoding: "+ae, "If-None-Match: "+etags[ae])
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET /main.wasm (%s) with its ETag: status %d, want 304", ae, resp.StatusCode)
		}
	}
	if etags["identity"] == etags["gzip"] || etags["gzip"] == etags["br"] || etags["br"] == etags["identity"] {
		t.Errorf("variants share an ETag: %v", etags)
	}
	if resp, _ := get(t, m, "/main.wasm", "Accept-Encoding: br", "If-None-Match: "+etags["gzip"]); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /main.wasm (br) with the gzip ETag: status %d, want 200", resp.StatusCode)
	}

	resp, body := get(t, m, "/main.wasm", "Range: bytes=0-3")
	if resp.StatusCode != http.StatusPartialContent || string(body) != "\x00asm" {
		t.Errorf("GET /main.wasm bytes 0-3: status %d, body %q; want 206, \"\\x00asm\"", resp.StatusCode, body)
	}
}

// decode returns body decoded according to Content-Encoding.
func decode(tb testing.TB, coding string, body []byte) []byte {
	tb.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch coding {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	default:
		tb.Fatalf("unexpected Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("decoding %s: %v", coding, err)
	}
	return out
}

func TestCompressionNegotiation(t *testing.T) {
	m, _, _ := startServer(t)
	tests := []struct {
		accept []string // Accept-Encoding header lines; none for no header
		want   string   // Content-Encoding
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"identity"}, ""},
		{[]string{"gzip"}, "gzip"},
		{[]string{"x-gzip"}, "gzip"},
		{[]string{"GZip"}, "gzip"},
		{[]string{"br"}, "br"},
		{[]string{"gzip, deflate, br, zstd"}, "br"}, // what browsers send
		{[]string{"gzip;q=1.0, br;q=0.1"}, "br"},    // br is preferred whenever acceptable
		{[]string{"gzip", "br"}, "br"},              // several header lines
		{[]string{"br;q=0, gzip"}, "gzip"},
		{[]string{"br; q=0.000, gzip;q=0.5"}, "gzip"},
		{[]string{"gzip;q=0, br;q=0"}, ""},
		{[]string{"br;q=0"}, ""},
		{[]string{"*"}, "br"},
		{[]string{"*;q=0"}, ""},
		{[]string{"br;q=0, *"}, "gzip"},
		{[]string{"*;q=0, gzip"}, "gzip"},
		{[]string{"gzip;q=bogus"}, ""},
		{[]string{"gzip;q=2"}, ""},
		{[]string{"deflate, zstd"}, ""},
	}
	for _, tt := range tests {
		var header []string
		for _, a := range tt.accept {
			header = append(header, "Accept-Encoding: "+a)
		}
		resp, body := get(t, m, "/main.wasm", header...)
		got := resp.Header.Get("Content-Encoding")
		if resp.StatusCode != http.StatusOK || got != tt.want {
			t.Errorf("Accept-Encoding %q: status %d, Content-Encoding %q; want 200, %q", tt.accept, resp.StatusCode, got, tt.want)
			continue
		}
		if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q, want Accept-Encoding", tt.accept, v)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q, want application/wasm", tt.accept, ct)
		}
		if tt.want != "" && len(body) >= len(fakeWasm) {
			t.Errorf("Accept-Encoding %q: %s body is %d bytes, not smaller than %d", tt.accept, got, len(body), len(fakeWasm))
		}
		if !bytes.Equal(decode(t, got, body), fakeWasm) {
			t.Errorf("Accept-Encoding %q: decoded %s body differs from main.wasm", tt.accept, got)
		}
	}

	// A file without variants is sent as is.
	if resp, body := get(t, m, "/other.txt", "Accept-Encoding: gzip, br"); resp.Header.Get("Content-Encoding") != "" || string(body) != "no variants" {
		t.Errorf("GET /other.txt: Content-Encoding %q, body %q", resp.Header.Get("Content-Encoding"), body)
	}
}

func TestStaleVariantsIgnored(t *testing.T) {
	m, web, _ := startServer(t)
	wasm := filepath.Join(web, "main.wasm")
	// A rebuilt main.wasm, newer than both variants: served as is.
	newWasm := append([]byte("\x00asm\x01\x00\x00\x00"), "rebuilt"...)
	writeFile(t, wasm, newWasm)
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(wasm, future, future); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, m, "/main.wasm", "Accept-Encoding: gzip, br")
	if ce := resp.Header.Get("Content-Encoding"); ce != "" || !bytes.Equal(body, newWasm) {
		t.Errorf("stale variants: Content-Encoding %q, body %.20q; want none, the rebuilt file", ce, body)
	}

	// Only .gz is fresh: gzip wins even though br is preferred.
	if _, _, err := compressFile(context.Background(), wasm, encodings[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(wasm+".gz", future, future); err != nil { // as new as main.wasm
		t.Fatal(err)
	}
	resp, body = get(t, m, "/main.wasm", "Accept-Encoding: gzip, br")
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" || !bytes.Equal(decode(t, ce, body), newWasm) {
		t.Errorf("stale .br, fresh .gz: Content-Encoding %q; want gzip with the rebuilt file", ce)
	}
}

func TestMethods(t *testing.T) {
	m, _, _ := startServer(t)
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT-ISH"} {
		for _, path := range []string{"/", "/main.wasm", "/data/" + mnist.TrainLabelsFile, "/nope"} {
			resp, _ := do(t, m, method, path)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q; want 405, \"GET, HEAD\"", method, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
			checkSecurityHeaders(t, resp, "*")
		}
	}
}

func TestTraversalRefused(t *testing.T) {
	m, _, _ := startServer(t)
	targets := []string{
		"/../outside/secret.txt",
		"/sub/../../outside/secret.txt",
		"/sub/../index.html", // harmless, but not a plain name either
		"/./index.html",
		"/%2e%2e/outside/secret.txt",
		"/%2E%2E/%2e%2E/etc/passwd",
		"/.%2e/outside/secret.txt",
		"/sub%2f..%2f..%2foutside%2fsecret.txt",
		"/..%2foutside%2fsecret.txt",
		"/..%5coutside%5csecret.txt",
		`/..\outside\secret.txt`,
		"/sub%5cpage.html",
		"/sub%2fpage.html",
		"//etc/passwd",
		"/%2fetc/passwd",
		"/index.html%00.png",
		"/%00",
		"/data/../../outside/secret.txt",
		"/data/%2e%2e/extra.gz",
		"/data/..%2fextra.gz",
		"http://example.com/../outside/secret.txt", // absolute-form request target
		"*",
	}
	for _, target := range targets {
		for _, send := range []func(testing.TB, *Main, string) (*http.Response, []byte){
			rawGet,
			func(tb testing.TB, m *Main, target string) (*http.Response, []byte) { return get(tb, m, target) },
		} {
			resp, body := send(t, m, target)
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 400 or 404", target, resp.StatusCode)
			}
			if bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte("root:")) {
				t.Errorf("GET %s leaked: %q", target, body)
			}
		}
	}
}

func TestFileName(t *testing.T) {
	for _, tt := range []struct {
		target, name string
		status       int
	}{
		{"/", "", 200},
		{"/index.html", "index.html", 200},
		{"/sub/page.html?x=..", "sub/page.html", 200},
		{"/a%20b.js", "a b.js", 200},
		{"/sub/../index.html", "", 400},
		{"/..", "", 400},
		{"/./index.html", "", 400},
		{"/%2e%2e/x", "", 400},
		{"/sub%2fpage.html", "", 400},
		{"/sub%2Fpage.html", "", 400},
		{"/sub%5cpage.html", "", 400},
		{`/sub\page.html`, "", 400},
		{"/index.html%00", "", 400},
		{"*", "", 400},
		{"/.secret", "", 404},
		{"/sub/.hidden", "", 404},
		{"/%2esecret", "", 404},
		{"/...", "", 404},
		{"/sub/", "", 404},
		{"//etc/passwd", "", 404},
		{"/sub//page.html", "", 404},
	} {
		u, err := url.ParseRequestURI(tt.target)
		if err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		if name, status := fileName(u); name != tt.name || status != tt.status {
			t.Errorf("fileName(%s) = %q, %d; want %q, %d", tt.target, name, status, tt.name, tt.status)
		}
	}
}

func TestHiddenAndMissing(t *testing.T) {
	m, _, _ := startServer(t)
	for _, path := range []string{
		"/.secret", "/%2esecret", "/.git/config", "/.git/", "/sub/.hidden", "/sub/%2Ehidden",
		"/sub", "/sub/", "/index.html/", "/sub//page.html", "/nope.js", "/.well-known/x",
		"/link-abs", "/link-rel", "/link-dir/secret.txt", "/link-abs-in", // symlinks out of the root
		"/data", "/data/", "/data/extra.gz", "/data/.hidden",
		"/data/" + strings.TrimSuffix(mnist.TrainImagesFile, ".gz"),
		"/data/sub/" + mnist.TrainImagesFile,
		"/DATA/" + mnist.TrainImagesFile,
	} {
		resp, body := get(t, m, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("GET %s leaked: %q", path, body)
		}
		checkSecurityHeaders(t, resp, "*")
	}
}

func TestData(t *testing.T) {
	web := newWebDir(t)
	data, real := newDataDir(t)
	m := startMain(t, "-web", web, "-data", data)
	for _, f := range mnist.KnownFiles {
		want, err := os.ReadFile(filepath.Join(data, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, m, "/data/"+f.Name, "Accept-Encoding: gzip, br")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("GET /data/%s: status %d, %d bytes; want 200, %d", f.Name, resp.StatusCode, len(body), len(want))
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("GET /data/%s: Content-Type %q, want application/octet-stream", f.Name, ct)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("GET /data/%s: Content-Encoding %q, want none (the page unpacks the gzip itself)", f.Name, ce)
		}
		if resp.ContentLength != int64(len(want)) || resp.Header.Get("ETag") == "" {
			t.Errorf("GET /data/%s: Content-Length %d, ETag %q", f.Name, resp.ContentLength, resp.Header.Get("ETag"))
		}
		if real {
			sum := sha256.Sum256(body)
			if len(body) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
				t.Errorf("GET /data/%s: %d bytes, SHA-256 %x; want %d, %s", f.Name, len(body), sum, f.Size, f.SHA256)
			}
		}
		checkSecurityHeaders(t, resp, "*")
	}
	if !real {
		t.Log("checked stand-ins only: no real MNIST files")
	}
}

func TestWasmExec(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Skip(err)
	}
	m, web, _ := startServer(t)
	resp, body := get(t, m, "/wasm_exec.js")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("GET /wasm_exec.js from GOROOT: status %d, %d bytes; want 200, %d", resp.StatusCode, len(body), len(want))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("GET /wasm_exec.js: Content-Type %q", ct)
	}
	checkSecurityHeaders(t, resp, "*")

	writeFile(t, filepath.Join(web, "wasm_exec.js"), []byte("// the web folder's copy"))
	if _, body := get(t, m, "/wasm_exec.js"); string(body) != "// the web folder's copy" {
		t.Errorf("GET /wasm_exec.js with a copy in -web: got %.40q", body)
	}
}

func TestFrameAncestors(t *testing.T) {
	m, _, _ := startServer(t, "-frame-ancestors", "https://course.example.edu 'self'")
	for _, path := range []string{"/", "/nope"} {
		resp, _ := get(t, m, path)
		checkSecurityHeaders(t, resp, "https://course.example.edu 'self'")
	}

	for _, bad := range []string{"", "  ", "* ; script-src *", "a, b", "x\r\nSet-Cookie: a=b"} {
		if err := NewMain().ParseFlags([]string{"-frame-ancestors", bad}); err == nil {
			t.Errorf("-frame-ancestors %q: no error", bad)
		}
	}
}

func TestPublicFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-addr", "127.0.0.1:0"}, true},
		{[]string{"-addr", "127.1.2.3:80"}, true},
		{[]string{"-addr", "localhost:8080"}, true},
		{[]string{"-addr", "[::1]:8080"}, true},
		{[]string{"-addr", ":8080"}, false},
		{[]string{"-addr", "0.0.0.0:8080"}, false},
		{[]string{"-addr", "[::]:8080"}, false},
		{[]string{"-addr", "192.168.1.10:8080"}, false},
		{[]string{"-addr", "example.com:8080"}, false},
		{[]string{"-addr", ":8080", "-public"}, true},
		{[]string{"-public", "-addr", "192.168.1.10:8080"}, true},
		{[]string{"-addr", "no-port"}, false},
		{[]string{"extra-argument"}, false},
	} {
		m := NewMain()
		m.Log = io.Discard
		err := m.ParseFlags(tt.args)
		if (err == nil) != tt.ok {
			t.Errorf("ParseFlags(%q): error %v, want ok=%v", tt.args, err, tt.ok)
		}
		if err != nil && strings.HasPrefix(m.ListenAddr, ":") && !strings.Contains(err.Error(), "-public") {
			t.Errorf("ParseFlags(%q): error %q does not mention -public", tt.args, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRequestLog(t *testing.T) {
	var logs syncBuffer
	m := startMainLog(t, &logs, "-web", newWebDir(t), "-data", first(newDataDir(t)))
	get(t, m, "/app.js?x=1")
	do(t, m, http.MethodPost, "/app.js")
	get(t, m, "/nope")
	if err := m.Close(); err != nil { // waits for the handlers, and so their log lines
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`GET "/app.js?x=1" 200 %dB `, len("console.log('app');")),
		`POST "/app.js" 405 `,
		`GET "/nope" 404 `,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log has no line with %q:\n%s", want, logs.String())
		}
	}
}

func TestPublicWarning(t *testing.T) {
	var logs syncBuffer
	startMainLog(t, &logs, "-addr", "0.0.0.0:0", "-public", "-web", newWebDir(t), "-data", first(newDataDir(t)))
	if !strings.Contains(logs.String(), "WARNING: listening on all network interfaces") {
		t.Errorf("no warning for 0.0.0.0 in the log:\n%s", logs.String())
	}
}

// first returns the first of a function's results.
func first[T any](v T, _ ...any) T { return v }

func TestRunErrors(t *testing.T) {
	web := newWebDir(t)
	data, _ := newDataDir(t)
	for _, args := range [][]string{
		{"-web", filepath.Join(web, "missing"), "-data", data},
		{"-web", web, "-data", filepath.Join(data, "missing")},
	} {
		m := NewMain()
		m.Log = io.Discard
		if err := m.ParseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...)); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err == nil {
			m.Close()
			t.Errorf("Run with %q: no error", args)
		}
	}
}

func TestGracefulClose(t *testing.T) {
	m, web, _ := startServer(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB, more than socket buffers hold
	writeFile(t, filepath.Join(web, "big.bin"), big)

	resp, err := client.Get("http://" + m.Addr() + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()

	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v with a download in flight", err)
	default:
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("download during Close: %d of %d bytes, error %v", len(body), len(big), err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if conn, err := net.Dial("tcp", m.Addr()); err == nil {
		conn.Close()
		t.Errorf("still accepting connections after Close")
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestServerSettings(t *testing.T) {
	m, _, _ := startServer(t)
	s := m.server
	if s.ReadHeaderTimeout != 5*time.Second || s.ReadTimeout != 30*time.Second || s.WriteTimeout != 2*time.Minute ||
		s.IdleTimeout != time.Minute || s.MaxHeaderBytes != 64<<10 {
		t.Errorf("server limits: %+v", s)
	}
}

func TestPrecompress(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.wasm")
	writeFile(t, file, fakeWasm)
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(file, past, past); err != nil {
		t.Fatal(err)
	}

	run := func() string {
		t.Helper()
		var out bytes.Buffer
		m := NewMain()
		m.Stdout = &out
		if err := m.ParseFlags([]string{"-precompress", file}); err != nil {
			t.Fatal(err)
		}
		if err := m.Precompress(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := run()
	raw, _ := os.Stat(file)
	for _, enc := range encodings {
		fi, err := os.Stat(file + enc.ext)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(file + enc.ext)
		if !bytes.Equal(decode(t, enc.name, data), fakeWasm) {
			t.Errorf("%s does not decode to main.wasm", enc.ext)
		}
		if fi.ModTime().Before(raw.ModTime()) {
			t.Errorf("%s is older than main.wasm", enc.ext)
		}
		if want := fmt.Sprintf("main.wasm%s: %d bytes", enc.ext, fi.Size()); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("main.wasm: %d bytes", len(fakeWasm))) {
		t.Errorf("output lacks the size of main.wasm:\n%s", out)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, ".*")); len(files) > 0 {
		t.Errorf("temporary files left: %q", files)
	}

	// Rebuilt with the same bytes (go build rewrites it): the variants are
	// kept but made as new as the file again.
	writeFile(t, file, fakeWasm)
	if out := run(); strings.Count(out, "unchanged, kept") != 2 {
		t.Errorf("same content: variants not kept:\n%s", out)
	}
	raw, _ = os.Stat(file)
	for _, enc := range encodings {
		if fi, _ := os.Stat(file + enc.ext); fi.ModTime().Before(raw.ModTime()) {
			t.Errorf("kept %s is older than main.wasm", enc.ext)
		}
	}

	// Rebuilt with other bytes: compressed again.
	changed := append(bytes.Clone(fakeWasm), "changed"...)
	writeFile(t, file, changed)
	if out := run(); strings.Contains(out, "kept") {
		t.Errorf("changed content: a variant was kept:\n%s", out)
	}
	for _, enc := range encodings {
		data, _ := os.ReadFile(file + enc.ext)
		if !bytes.Equal(decode(t, enc.name, data), changed) {
			t.Errorf("%s does not decode to the changed main.wasm", enc.ext)
		}
	}

	m := NewMain()
	m.Stdout = io.Discard
	m.PrecompressFile = filepath.Join(dir, "missing.wasm")
	if err := m.Precompress(context.Background()); err == nil {
		t.Error("-precompress of a missing file: no error")
	}

	// Interrupted: an error, no variant and no temporary file left.
	other := filepath.Join(dir, "other.wasm")
	writeFile(t, other, fakeWasm)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m.PrecompressFile = other
	if err := m.Precompress(ctx); err == nil {
		t.Error("-precompress interrupted: no error")
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*other.wasm.*")); len(files) > 0 {
		t.Errorf("interrupted -precompress left %q", files)
	}
}
