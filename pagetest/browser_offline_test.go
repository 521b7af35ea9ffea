package pagetest

// Browser tests of the trainer without its Go server: offline after one visit (web/sw.js,
// web/datacache.js), and as a static site (-site, web/wasmload.js) on a plain file server.

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
)

// copyDir copies the regular files of from into to, recursively.
func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		tb.Fatal(err)
	}
}

// withCustomSection returns wasm with a custom section name holding text appended: another
// main.wasm that runs the same.
func withCustomSection(wasm []byte, name, text string) []byte {
	leb := func(n int) []byte {
		var out []byte
		for {
			b := byte(n & 0x7f)
			n >>= 7
			if n == 0 {
				return append(out, b)
			}
			out = append(out, b|0x80)
		}
	}
	body := append(append(leb(len(name)), name...), text...)
	return append(append(append(bytes.Clone(wasm), 0), leb(len(body))...), body...)
}

// switchable stands in front of a server and, while down is set, closes every connection
// without an answer, as a server that is gone does.
func switchable(tb testing.TB, real string) (*httptest.Server, *atomic.Bool) {
	tb.Helper()
	target, _ := url.Parse(real)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var down atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(s.Close)
	return s, &down
}

// requestLine is one line of the server's request log: path, status and bytes.
var requestLine = regexp.MustCompile(`GET "([^"?]*)[^"]*" (\d+) (\d+)B`)

type request struct {
	path          string
	status, bytes int
}

func requests(log string) []request {
	var out []request
	for _, m := range requestLine.FindAllStringSubmatch(log, -1) {
		status, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		out = append(out, request{m[1], status, n})
	}
	return out
}

func TestBrowserOffline(t *testing.T) {
	web := t.TempDir()
	copyDir(t, "../web", web)
	p, srv := openBrowserLog(t, "-web", web)
	front, down := switchable(t, p.base)
	op := &page{ctx: p.ctx, base: front.URL, downloads: p.downloads}
	query := "?workers=1&" + recordRun

	op.open(t, query)
	op.poll(t, 30*time.Second, `window.__mnist.snapshot && window.__mnist.snapshot.ok`)
	first := len(requests(srv.log()))

	t.Run("a second visit downloads almost nothing", func(t *testing.T) {
		op.open(t, query)
		var n, total int
		for _, r := range requests(srv.log())[first:] {
			n++
			total += r.bytes
			if strings.HasPrefix(r.path, "/data/") || (r.path == "/main.wasm" && r.status != http.StatusNotModified) {
				t.Errorf("the second visit fetched %s again (%d, %d bytes)", r.path, r.status, r.bytes)
			}
		}
		t.Logf("second visit: %d requests, %d bytes of bodies (headers not counted)", n, total)
		if eval[bool](t, op, `window.__mnist.offline`) {
			t.Error("the page says it is offline while the server answers")
		}
	})

	t.Run("with the server gone, a reload opens, says it is offline, and trains", func(t *testing.T) {
		op.poll(t, 30*time.Second, `window.__mnist.snapshot && window.__mnist.snapshot.ok`)
		down.Store(true)
		defer down.Store(false)
		op.open(t, query)
		if !eval[bool](t, op, `window.__mnist.offline && !document.querySelector('#offline').hidden`) {
			t.Error("the page does not say it runs offline")
		}
		op.click(t, "#train")
		op.poll(t, 2*time.Minute, `!document.body.classList.contains('training') && window.__mnist.chart.epochs.length === 1`)
	})

	t.Run("a changed main.wasm is picked up once the server is back", func(t *testing.T) {
		old, err := os.ReadFile(filepath.Join(web, "main.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(web, "main.wasm"), withCustomSection(old, "mnist-test-build", "second"), 0o644); err != nil {
			t.Fatal(err)
		}
		op.open(t, query)
		if got := eval[*string](t, op, `window.__mnist.wasmSection('mnist-test-build')`); got == nil || *got != "second" {
			t.Fatalf("after the change the page runs main.wasm with build section %v, want the new one", got)
		}
		op.poll(t, 30*time.Second, `window.__mnist.snapshot && window.__mnist.snapshot.ok`)
		down.Store(true)
		defer down.Store(false)
		op.open(t, query)
		if got := eval[*string](t, op, `window.__mnist.wasmSection('mnist-test-build')`); got == nil || *got != "second" {
			t.Errorf("offline after the change, the page runs main.wasm with build section %v, want the new one", got)
		}
	})
}

func TestBrowserStaticSite(t *testing.T) {
	dir := t.TempDir()
	data, err := mnistdir.Find()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(buildServe(t), "-web", "../web", "-data", data, "-site", dir).CombinedOutput(); err != nil {
		t.Fatalf("serve -site: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.wasm")); err == nil {
		t.Error("the site has an uncompressed main.wasm")
	}
	// A plain file server, as a static host is: no Content-Encoding, no CSP.
	var mu sync.Mutex
	var served []request
	files := http.FileServer(http.Dir(dir))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		files.ServeHTTP(rec, r)
		mu.Lock()
		served = append(served, request{r.URL.Path, rec.status, rec.n})
		mu.Unlock()
	})}}
	s.Start()
	t.Cleanup(s.Close)

	p := openBrowser(t)
	sp := &page{ctx: p.ctx, base: s.URL, downloads: p.downloads}
	sp.open(t, "?workers=1&"+recordRun)
	sp.click(t, "#train")
	sp.poll(t, 2*time.Minute, `!document.body.classList.contains('training') && window.__mnist.chart.epochs.length === 1`)
	// The site works offline after this visit too: its offline copy holds main.wasm.gz.
	sp.poll(t, 30*time.Second, `window.__mnist.snapshot !== null`)
	if snap := eval[map[string]any](t, sp, `window.__mnist.snapshot`); snap["ok"] != true {
		t.Errorf("the service worker kept no offline copy of the static site: %v", snap)
	}
	mu.Lock()
	defer mu.Unlock()
	var wasm []string
	for _, r := range served {
		if strings.HasPrefix(r.path, "/main.wasm") {
			wasm = append(wasm, fmt.Sprintf("%s %d %d B", r.path, r.status, r.bytes))
		}
	}
	t.Logf("main.wasm requests: %q", wasm)
	if len(wasm) != 2 || !strings.HasPrefix(wasm[0], "/main.wasm 404") || !strings.HasPrefix(wasm[1], "/main.wasm.gz 200") {
		t.Errorf("main.wasm requests %q; want main.wasm 404, then main.wasm.gz", wasm)
	}
}

// countingWriter records a response's status and body bytes.
type countingWriter struct {
	http.ResponseWriter
	status, n int
}

func (c *countingWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
}
