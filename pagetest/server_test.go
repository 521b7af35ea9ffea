package pagetest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveCommand is the serve command, built once per test binary by buildServe into dir, which
// TestMain removes.
var serveCommand struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serveCommand.dir != "" {
		os.RemoveAll(serveCommand.dir)
	}
	os.Exit(code)
}

// buildServe returns the path of the serve command, built from ../serve with the go command
// and the environment of this test (the Makefile's toolchain and GOEXPERIMENT).
func buildServe(tb testing.TB) string {
	tb.Helper()
	c := &serveCommand
	c.once.Do(func() {
		if c.dir, c.err = os.MkdirTemp("", "pagetest"); c.err != nil {
			return
		}
		c.path = filepath.Join(c.dir, "serve")
		out, err := exec.Command("go", "build", "-o", c.path, "../serve").CombinedOutput()
		if err != nil {
			c.err = &buildError{err, out}
		}
	})
	if c.err != nil {
		tb.Fatalf("building the server (go build ../serve): %v", c.err)
	}
	return c.path
}

// buildError is a failed go build and what it printed.
type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// server is the serve command running on 127.0.0.1 for one test.
type server struct {
	addr string // host:port

	mu    sync.Mutex
	lines []string // its log so far: start-up messages, then one line per request
}

// servingLine is the log line of a server that accepts connections, with its address.
var servingLine = regexp.MustCompile(` at http://(127\.0\.0\.1:\d+)/$`)

// startServer runs the serve command on a free port of 127.0.0.1, serving the page's folder,
// with the flags args after that (a later flag wins), and stops it, as Ctrl-C would, at cleanup.
func startServer(tb testing.TB, args ...string) *server {
	tb.Helper()
	cmd := exec.Command(buildServe(tb), append([]string{"-addr", "127.0.0.1:0", "-web", "../web"}, args...)...)
	stopWithTest(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &server{}
	serving := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for found := false; sc.Scan(); {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil && !found {
				serving <- m[1]
				found = true
			}
		}
		io.Copy(io.Discard, stderr) // after a line too long to scan: the server must not block on its log
	}()
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-logDone // the log is read to its end before Wait closes the pipe
		if err := cmd.Wait(); err != nil && s.addr != "" {
			tb.Errorf("the server stopped with %v:\n%s", err, s.log())
		}
	})
	select {
	case s.addr = <-serving:
	case <-logDone:
		tb.Fatalf("the server exited before it served:\n%s", s.log())
	case <-time.After(time.Minute):
		tb.Fatalf("the server did not serve within a minute:\n%s", s.log())
	}
	return s
}

// log returns what the server has logged so far, one line per request after its start-up
// messages.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n") + "\n"
}
