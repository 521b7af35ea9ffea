package main

// Tests of what the server does against clients that are slow, greedy or
// many: the limits of the "Server" list that serve_test.go does not
// cover (timeouts cutting real slow clients off, the header size limit,
// streaming). The load itself is in load_test.go.

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigFile returns size pseudo-random bytes: incompressible, so that no layer
// could shrink them and hide a copy.
func bigFile(size int) []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{'m', 'n', 'i', 's', 't'}).Read(b)
	return b
}

// TestFilesStreamed checks that files are streamed from disk rather than
// read whole into memory per request: four concurrent downloads of a 32 MiB
// file, plain and through the precompressed-variant path, allocate a few
// megabytes in the whole process (server and client), not 128 MiB.
func TestFilesStreamed(t *testing.T) {
	const size, clients, limit = 32 << 20, 4, 8 << 20
	web := newWebDir(t)
	data, _ := newDataDir(t)
	big := bigFile(size)
	writeFile(t, filepath.Join(web, "big.bin"), big)
	// The server does not look inside variants, so the same bytes serve as a
	// .gz; written second, it is at least as new as big.bin and so is served.
	writeFile(t, filepath.Join(web, "big.bin.gz"), big)
	want := sha256.Sum256(big)
	m := startMainLog(t, io.Discard, "-web", web, "-data", data)

	for _, accept := range []string{"identity", "gzip"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		errs := make(chan error, clients)
		for range clients {
			go func() {
				req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+"/big.bin", nil)
				req.Header.Set("Accept-Encoding", accept)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				h := sha256.New()
				n, err := io.Copy(h, resp.Body)
				switch {
				case err != nil:
					errs <- err
				case resp.StatusCode != http.StatusOK || n != size || [32]byte(h.Sum(nil)) != want:
					errs <- fmt.Errorf("status %d, %d bytes, SHA-256 %x", resp.StatusCode, n, h.Sum(nil))
				default:
					errs <- nil
				}
			}()
		}
		for range clients {
			if err := <-errs; err != nil {
				t.Errorf("Accept-Encoding %s: %v", accept, err)
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > limit {
			t.Errorf("Accept-Encoding %s: the process allocated %d bytes to send %d downloads of %d bytes; want < %d, so files are streamed",
				accept, n, clients, size, limit)
		} else {
			t.Logf("Accept-Encoding %s: %d downloads of %d MiB allocated %d KiB in all", accept, clients, size>>20, n>>10)
		}
	}
}

func TestHeaderSizeLimit(t *testing.T) {
	m, _, _ := startServer(t)
	for _, tt := range []struct {
		size int
		want int
	}{
		{1 << 10, http.StatusOK},
		{MaxHeaderBytes - 4<<10, http.StatusOK}, // under the limit, with room for the other headers
		{MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge},
		{100 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{1 << 20, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+"/app.js", nil)
		req.Header.Set("X-Padding", strings.Repeat("a", tt.size))
		resp, err := client.Do(req)
		if err != nil {
			// The server may hang up while a 1 MiB header is still being
			// sent; that refuses it just as well.
			if tt.want != http.StatusOK && tt.size > 100<<10 {
				t.Logf("%d-byte header: %v", tt.size, err)
				continue
			}
			t.Fatalf("%d-byte header: %v", tt.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d-byte header: status %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}

// waitClosed reads from conn until the server closes it, which must happen
// within limit of start, and returns how long that took from start and what
// was read. It reports with Errorf, not Fatalf, so it can run in a goroutine.
func waitClosed(tb testing.TB, conn net.Conn, start time.Time, limit time.Duration) (time.Duration, []byte) {
	tb.Helper()
	conn.SetReadDeadline(start.Add(limit))
	got, err := io.ReadAll(conn)
	elapsed := time.Since(start)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		tb.Errorf("connection still open after %v (read %d bytes)", elapsed.Round(time.Millisecond), len(got))
	}
	return elapsed, got // io.EOF, or a reset: either way the server hung up
}

// TestSlowHeadersCutOff is the slow-loris attack: many connections that send
// their headers one line at a time, never finishing. ReadHeaderTimeout is a
// deadline for the whole header, not per read, so each is cut off once it
// has passed, and the server keeps serving everybody else meanwhile.
func TestSlowHeadersCutOff(t *testing.T) {
	const timeout, conns = 300 * time.Millisecond, 20
	m := startMainWith(t, io.Discard, func(m *Main) { m.ReadHeaderTimeout = timeout },
		"-web", newWebDir(t), "-data", first(newDataDir(t)))

	var wg sync.WaitGroup
	elapsed := make([]time.Duration, conns)
	for i := range conns {
		start := time.Now() // before the dial, so before the server starts its clock
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /app.js HTTP/1.1\r\nHost: %s\r\n", m.Addr())
		wg.Go(func() {
			// One more header line every 50 ms, until the server hangs up.
			for j := 0; ; j++ {
				time.Sleep(50 * time.Millisecond)
				if _, err := fmt.Fprintf(conn, "X-Slow-%d: 1\r\n", j); err != nil {
					return
				}
				if time.Since(start) > 6*time.Second {
					return
				}
			}
		})
		wg.Go(func() {
			var got []byte
			elapsed[i], got = waitClosed(t, conn, start, 4*time.Second)
			if len(got) > 0 {
				t.Errorf("slow client %d got a response: %.60q", i, got)
			}
		})
	}
	// Everybody else is still served while the slow clients hang on.
	if resp, _ := get(t, m, "/app.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /app.js during the attack: status %d", resp.StatusCode)
	}
	wg.Wait()
	for i, e := range elapsed {
		if e < timeout || e > timeout+2*time.Second { // generous: CI machines are busy
			t.Errorf("slow client %d was cut off after %v, want just after %v", i, e.Round(time.Millisecond), timeout)
		}
	}
	t.Logf("%d slow-header clients cut off after %v to %v (ReadHeaderTimeout %v)",
		conns, slices.Min(elapsed).Round(time.Millisecond), slices.Max(elapsed).Round(time.Millisecond), timeout)
}

// TestIdleConnectionClosed checks that a keep-alive connection left idle
// after a request is closed after IdleTimeout.
func TestIdleConnectionClosed(t *testing.T) {
	const timeout = 300 * time.Millisecond
	m := startMainWith(t, io.Discard, func(m *Main) { m.IdleTimeout = timeout },
		"-web", newWebDir(t), "-data", first(newDataDir(t)))
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server starts its idle clock once it has written the response, so
	// after this: the connection must stay open for at least the timeout.
	start := time.Now()
	fmt.Fprintf(conn, "GET /app.js HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("status %d, Connection: close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	elapsed, got := waitClosed(t, conn, start, 4*time.Second)
	if len(got) > 0 || br.Buffered() > 0 || elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("idle connection closed after %v with %d bytes sent, want just after %v and none", elapsed, len(got), timeout)
	}
}

// TestNonReadingClientCutOff checks WriteTimeout: a client that asks for a
// large file and never reads it holds its connection (and the handler's
// goroutine and open file) only until WriteTimeout, not forever.
func TestNonReadingClientCutOff(t *testing.T) {
	const timeout, size = 500 * time.Millisecond, 32 << 20 // more than loopback socket buffers hold
	web := newWebDir(t)
	writeFile(t, filepath.Join(web, "big.bin"), bigFile(size))
	var logs syncBuffer
	m := startMainWith(t, &logs, func(m *Main) { m.WriteTimeout = timeout }, "-web", web, "-data", first(newDataDir(t)))

	start := time.Now()
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /big.bin HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
	// The request log line is written when the handler returns.
	line := regexp.MustCompile(`GET "/big\.bin" 200 (\d+)B`)
	for time.Since(start) < 5*time.Second && !line.MatchString(logs.String()) {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	match := line.FindStringSubmatch(logs.String())
	if match == nil {
		t.Fatalf("the handler still runs %v after a client stopped reading (WriteTimeout %v); log:\n%s", elapsed, timeout, logs.String())
	}
	sent, _ := strconv.Atoi(match[1])
	if sent >= size || elapsed < timeout {
		t.Errorf("handler returned after %v having sent %d of %d bytes; want after %v with the file unfinished", elapsed, sent, size, timeout)
	}
	t.Logf("non-reading client cut off after %v, %d of %d bytes sent", elapsed.Round(time.Millisecond), sent, size)
}
