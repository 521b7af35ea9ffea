package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mnist-trainer/mnist/mnist"
)

// contentSecurityPolicy returns the Content-Security-Policy sent with every
// response: exactly what the page needs, nothing from other origins. Anything
// not listed (plugins, fonts, media, frames, manifests) is refused, so a new
// kind of resource in the page must be added here on purpose.
func contentSecurityPolicy(frameAncestors string) string {
	return strings.Join([]string{
		"default-src 'none'",                   // anything not listed below
		"script-src 'self' 'wasm-unsafe-eval'", // our scripts; compiling main.wasm (no JS eval)
		"worker-src 'self'",                    // the training Web Worker
		"connect-src 'self'",                   // fetch of main.wasm and /data/*.gz
		"img-src 'self' data:",                 // the empty data: favicon of index.html
		"style-src 'self'",                     // our stylesheets, no inline styles
		"base-uri 'none'",                      // no <base> to redirect relative URLs
		"form-action 'none'",                   // the page submits no forms
		"frame-ancestors " + frameAncestors,    // who may embed the page: -frame-ancestors
	}, "; ")
}

// contentTypes fixes the types the page relies on, whatever the system's
// MIME tables say (a wrong type for .js or .wasm breaks the page under
// nosniff); other extensions go through mime.TypeByExtension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".wasm": "application/wasm",
	".json": "application/json",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// handler serves the page, wasm_exec.js and the MNIST files.
type handler struct {
	web      *os.Root        // -web; refuses names and symlinks that leave it
	dataDir  string          // -data
	data     map[string]bool // the only names served under /data/
	wasmExec string          // the toolchain's wasm_exec.js, "" if unknown
	csp      string
	cors     map[string]bool // -cors-origin: origins answered with CORS headers; "*" for any
}

// parseCORSOrigins reads -cors-origin: "*", "" (none), or space-separated origins such as
// https://course.example.edu, each a scheme and host with no path.
func parseCORSOrigins(text string) (map[string]bool, error) {
	origins := map[string]bool{}
	for _, o := range strings.Fields(text) {
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return nil, fmt.Errorf("-cors-origin %q: %q is not an origin such as https://course.example.edu", text, o)
			}
			o = u.Scheme + "://" + u.Host
		}
		origins[o] = true
	}
	return origins, nil
}

// allowCORS adds the CORS headers a page of another origin needs to read the response: the
// course page's module script (embed.js). The files are public; the headers only say which
// sites' scripts may read them.
func (h *handler) allowCORS(hdr http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	switch {
	case h.cors["*"]:
		hdr.Set("Access-Control-Allow-Origin", "*")
	case origin != "" && h.cors[origin]:
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
	}
}

func newHandler(ctx context.Context, web *os.Root, dataDir, frameAncestors string) *handler {
	h := &handler{
		web:      web,
		dataDir:  dataDir,
		data:     make(map[string]bool),
		wasmExec: findWasmExec(ctx),
		csp:      contentSecurityPolicy(frameAncestors),
	}
	for _, f := range mnist.KnownFiles {
		h.data[f.Name] = true
	}
	return h
}

// findWasmExec returns the path of wasm_exec.js in the GOROOT of the go
// command on $PATH, the one that builds main.wasm (the two must match), or
// failing that in the GOROOT this server was built with.
func findWasmExec(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var roots []string
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	roots = append(roots, runtime.GOROOT())
	for _, root := range roots {
		for _, dir := range []string{"lib/wasm", "misc/wasm"} { // misc/wasm before Go 1.24
			p := filepath.Join(root, dir, "wasm_exec.js")
			if root != "" && isRegular(os.Stat(p)) {
				return p
			}
		}
	}
	return ""
}

func isRegular(fi fs.FileInfo, err error) bool { return err == nil && fi.Mode().IsRegular() }

// missingData returns the known MNIST file names absent from the data folder.
func (h *handler) missingData() []string {
	var missing []string
	for _, f := range mnist.KnownFiles {
		if !isRegular(os.Stat(filepath.Join(h.dataDir, f.Name))) {
			missing = append(missing, f.Name)
		}
	}
	return missing
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	// No X-Frame-Options: it would forbid the embedding frame-ancestors allows.
	h.allowCORS(hdr, r)

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name, status := fileName(r.URL)
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	switch {
	case name == "":
		h.serveWeb(w, r, "index.html")
	case name == "data" || strings.HasPrefix(name, "data/"):
		name = strings.TrimPrefix(name, "data/")
		if !h.data[name] {
			http.NotFound(w, r)
			return
		}
		// A fixed list of names, so a plain Open (which lets a user
		// symlink the files in) is safe. The .gz bytes are the content:
		// no Content-Encoding, the page unpacks and checks them itself.
		h.serveOS(w, r, filepath.Join(h.dataDir, name), "application/octet-stream")
	case name == "wasm_exec.js" && h.wasmExec != "" && !isRegular(h.web.Stat(name)):
		h.serveOS(w, r, h.wasmExec, contentType(name))
	default:
		h.serveWeb(w, r, name)
	}
}

// fileName checks the request path and returns it without its leading
// slash ("" for "/"), or the status to refuse it with. Go's server does not
// clean paths, so this refuses anything but a plain relative name:
// ".." or "." segments, "%2f", backslashes and NUL bytes give 400; dotfiles,
// directory paths (ending in "/") and empty segments give 404.
func fileName(u *url.URL) (string, int) {
	p := u.Path
	switch {
	case !strings.HasPrefix(p, "/"),
		strings.ContainsAny(p, "\\\x00"),
		strings.Contains(strings.ToLower(u.EscapedPath()), "%2f"):
		return "", http.StatusBadRequest
	case p == "/":
		return "", http.StatusOK
	}
	name := p[1:]
	for seg := range strings.SplitSeq(name, "/") {
		switch {
		case seg == "." || seg == "..":
			return "", http.StatusBadRequest
		case seg == "" || seg[0] == '.':
			return "", http.StatusNotFound
		}
	}
	return name, http.StatusOK
}

// serveWeb serves the file called name in the web folder. If the client
// accepts brotli or gzip and name has a .br or .gz sibling at least as new
// as itself, it serves that instead: a variant older than the file is left
// from a previous build and never served.
func (h *handler) serveWeb(w http.ResponseWriter, r *http.Request, name string) {
	fi, err := h.web.Stat(name) // follows symlinks, refusing those that leave the root
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r) // directories too: no listings
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("Cache-Control", "no-cache")
	hdr.Add("Vary", "Accept-Encoding")
	accept := r.Header.Values("Accept-Encoding")
	for _, enc := range encodings {
		if !accepts(accept, enc.name) {
			continue
		}
		vfi, err := h.web.Stat(name + enc.ext)
		if err != nil || !vfi.Mode().IsRegular() || vfi.ModTime().Before(fi.ModTime()) {
			continue
		}
		if f, err := h.web.Open(name + enc.ext); err == nil {
			defer f.Close()
			hdr.Set("Content-Encoding", enc.name)
			serveFile(w, r, f, enc.name)
			return
		}
	}
	f, err := h.web.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	serveFile(w, r, f, "")
}

// serveOS serves the file at path p, outside the web root, as ctype.
func (h *handler) serveOS(w http.ResponseWriter, r *http.Request, p, ctype string) {
	if !isRegular(os.Stat(p)) { // before Open, which would block on a FIFO
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	serveFile(w, r, f, "")
}

// serveFile streams f with http.ServeContent, which answers conditional
// (If-None-Match, If-Modified-Since → 304), Range and HEAD requests. The
// strong ETag is made of the file's modification time and size, plus the
// content coding so that each variant has its own.
func serveFile(w http.ResponseWriter, r *http.Request, f *os.File, coding string) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf("%x-%x", fi.ModTime().UnixNano(), fi.Size())
	if coding != "" {
		etag += "-" + coding
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// accepts reports whether the Accept-Encoding header values accept coding
// with q > 0, by name or through "*". A missing header accepts no coding
// here: the file is then sent as is, which is always acceptable.
func accepts(values []string, coding string) bool {
	named, star := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			token, params, _ := strings.Cut(part, ";")
			token = strings.ToLower(strings.TrimSpace(token))
			if token == "x-gzip" {
				token = "gzip"
			}
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(param, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					var err error
					q, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || !(q >= 0 && q <= 1) {
						q = 0 // malformed: do not risk a coding the client may not handle
					}
				}
			}
			switch token {
			case coding:
				named = q
			case "*":
				star = q
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// logRequests logs one line per request: method, path, status, bytes of
// body written, duration and remote address.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: w}
		next.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		logger.Printf("%s %q %d %dB %s %s", r.Method, r.RequestURI, lw.status, lw.bytes,
			time.Since(start).Round(time.Microsecond), r.RemoteAddr)
	})
}

// logWriter records the status and body size of a response.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // not for 1xx informational headers
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for the files ServeContent copies.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

// Flush implements http.Flusher.
func (w *logWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying ResponseWriter.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
