package pagetest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mnist-trainer/mnist/mnist"
)

// TestServedPage checks a page that is already being served, such as `make run`'s: it fetches
// the page, main.wasm and one MNIST file, then opens the page in headless Chromium and waits
// until it says Ready (main.wasm started in its workers, MNIST loaded). .ci/run uses it to check
// the README's first command as a newcomer runs it (scripts/check-run.sh):
//
//	go test -run '^TestServedPage$' ./pagetest -args -page-url http://127.0.0.1:PORT/
//
// Without -page-url there is nothing to open, and it is skipped.
func TestServedPage(t *testing.T) {
	if *pageURL == "" {
		t.Skip("no -page-url: this checks a page served elsewhere (.ci/run starts make run for it)")
	}
	u, err := url.Parse(*pageURL)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" {
		t.Fatalf("-page-url %q: want http://127.0.0.1:PORT/", *pageURL)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Fatalf("-page-url %q: only a loopback address is opened", *pageURL)
	}
	base := strings.TrimSuffix(*pageURL, "/")

	client := &http.Client{Timeout: time.Minute}
	fetch := func(path string) []byte {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, %v", path, resp.StatusCode, err)
		}
		t.Logf("GET %s: %d bytes (%s)", path, len(body), resp.Header.Get("Content-Type"))
		return body
	}
	if body := fetch("/"); !bytes.Contains(body, []byte("<title>")) {
		t.Errorf("GET /: %.80q is not the page", body)
	}
	if body := fetch("/main.wasm"); !bytes.HasPrefix(body, []byte("\x00asm")) {
		t.Errorf("GET /main.wasm: %.8q is not a WebAssembly module", body)
	}
	labels := mnist.KnownFiles[len(mnist.KnownFiles)-1].Name
	if err := mnist.VerifyFile(labels, fetch("/data/"+labels)); err != nil {
		t.Errorf("GET /data/%s: %v", labels, err)
	}

	p := newBrowser(t, base)
	p.open(t, "")
	t.Logf("the page says %q", p.text(t, "#status"))
}
