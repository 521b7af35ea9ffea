package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mnist-trainer/mnist/mnist"
)

// TestLoad is the CI-sized version of `make loadtest` (scripts/loadtest.sh,
// figures in BENCHMARKS.md): a few dozen concurrent clients fetch main.wasm
// (brotli, as browsers ask for it, and identity) and the four MNIST files
// from the real server for a few seconds, and every response must be a 200
// whose bytes, decompressed where sent compressed, hash to the file's.
// Each client fetches every target once, then goes on until the time is up
// or it has made maxRequests requests.
func TestLoad(t *testing.T) {
	const (
		clients     = 32
		duration    = 3 * time.Second
		maxRequests = 200 // per client, so a fast machine does not make a slow test
	)
	if testing.Short() {
		t.Skip("a few seconds of load; skipped with -short")
	}
	web := newWebDir(t) // a small stand-in main.wasm with .br and .gz siblings, so no `make wasm`
	data, real := newDataDir(t)
	m := startMainLog(t, io.Discard, "-web", web, "-data", data)

	type target struct {
		path, accept, coding string // coding: the Content-Encoding expected
		sum                  [32]byte
	}
	wasmSum := sha256.Sum256(fakeWasm)
	targets := []target{
		{"/main.wasm", "gzip, deflate, br, zstd", "br", wasmSum}, // what browsers send
		{"/main.wasm", "identity", "", wasmSum},
	}
	for _, f := range mnist.KnownFiles {
		b, err := os.ReadFile(filepath.Join(data, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		// The page asks for the data with the browser's Accept-Encoding;
		// the .gz bytes must still come as they are.
		targets = append(targets, target{"/data/" + f.Name, "gzip, deflate, br, zstd", "", sha256.Sum256(b)})
	}

	// fetch gets one target and checks its status, coding and bytes.
	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: clients},
	}
	defer hc.CloseIdleConnections()
	fetch := func(tg target) (int64, error) {
		req, err := http.NewRequest(http.MethodGet, "http://"+m.Addr()+tg.path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept-Encoding", tg.accept)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != tg.coding {
			return 0, fmt.Errorf("Content-Encoding %q, want %q", ce, tg.coding)
		}
		counted := &countingReader{r: resp.Body}
		var body io.Reader = counted
		if tg.coding == "br" {
			body = brotli.NewReader(body)
		}
		h := sha256.New()
		if _, err := io.Copy(h, body); err != nil {
			return counted.n, err
		}
		if resp.ContentLength >= 0 && counted.n != resp.ContentLength {
			return counted.n, fmt.Errorf("%d bytes, Content-Length %d", counted.n, resp.ContentLength)
		}
		if [32]byte(h.Sum(nil)) != tg.sum {
			return counted.n, fmt.Errorf("SHA-256 %x, want %x", h.Sum(nil), tg.sum)
		}
		return counted.n, nil
	}

	var (
		mu        sync.Mutex
		requests  int
		bytesRead int64
		errs      []error
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(duration)
	for c := range clients {
		wg.Go(func() {
			// Every target once at least, however slow the machine.
			for i := 0; i < maxRequests && (i < len(targets) || time.Now().Before(deadline)); i++ {
				tg := targets[(c+i)%len(targets)] // clients start at different files
				t0 := time.Now()
				n, err := fetch(tg)
				d := time.Since(t0)
				mu.Lock()
				requests++
				bytesRead += n
				latencies = append(latencies, d)
				if err != nil {
					errs = append(errs, fmt.Errorf("GET %s (Accept-Encoding %s): %w", tg.path, tg.accept, err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	for i, err := range errs {
		if i == 10 {
			t.Errorf("... and %d more errors", len(errs)-i)
			break
		}
		t.Error(err)
	}
	slices.Sort(latencies)
	t.Logf("%d clients, %v: %d requests, %d errors, p50 %v, p99 %v, %.0f requests/s, %.0f MB/s (real MNIST files: %v)",
		clients, elapsed.Round(time.Millisecond), requests, len(errs),
		latencies[len(latencies)/2].Round(time.Microsecond), latencies[len(latencies)*99/100].Round(time.Microsecond),
		float64(requests)/elapsed.Seconds(), float64(bytesRead)/elapsed.Seconds()/1e6, real)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
