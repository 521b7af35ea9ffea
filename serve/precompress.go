package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/andybalholm/brotli"
)

// brotliQuality is brotli's best. Measured on this project's 10.8 MB
// main.wasm: 32 s of CPU (42 s on a busy 2-core machine) for 1.70 MB,
// against 1 s and 2.40 MB for gzip -9. Quality 10 takes half as long for
// about 4% more. That is within the minute a build may spend on it, and
// compressFile skips the work when main.wasm did not change.
const brotliQuality = 11

// encoding is a content coding the server can send precompressed.
type encoding struct {
	name      string // Content-Encoding token
	ext       string // suffix of the precompressed sibling file
	level     string // for -precompress's report
	newWriter func(io.Writer) io.WriteCloser
	newReader func(io.Reader) (io.Reader, error)
}

// encodings lists the precompressed variants in order of preference: brotli
// is smaller, gzip is the fallback every browser has.
var encodings = []encoding{
	{"br", ".br", fmt.Sprintf("brotli quality %d", brotliQuality), func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterLevel(w, brotliQuality)
	}, func(r io.Reader) (io.Reader, error) {
		return brotli.NewReader(r), nil
	}},
	{"gzip", ".gz", "gzip -9", func(w io.Writer) io.WriteCloser {
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // the level is valid
		return zw
	}, func(r io.Reader) (io.Reader, error) {
		return gzip.NewReader(r)
	}},
}

// compressFile writes name+enc.ext, the file compressed with enc, and
// returns its size. It writes a temporary dotfile (which the server never
// serves) and renames it, so a half-written variant is never visible.
//
// `go build` rewrites main.wasm even when nothing changed, which makes the
// old variants stale. When a variant still decompresses to exactly the
// file's bytes, compressFile only updates its modification time (kept is
// true), which takes milliseconds instead of brotli's half a minute.
// Cancelling ctx (Ctrl-C) stops it and removes the temporary file.
func compressFile(ctx context.Context, name string, enc encoding) (size int64, kept bool, err error) {
	if fi, err := os.Stat(name + enc.ext); err == nil && sameContent(name, name+enc.ext, enc) {
		now := time.Now()
		return fi.Size(), true, os.Chtimes(name+enc.ext, now, now)
	}
	in, err := os.Open(name)
	if err != nil {
		return 0, false, err
	}
	defer in.Close()
	dir, base := filepath.Split(name)
	tmp, err := os.CreateTemp(dir, "."+base+enc.ext+".*.tmp")
	if err != nil {
		return 0, false, err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	zw := enc.newWriter(tmp)
	_, err = io.Copy(zw, ctxReader{ctx, in})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name+enc.ext)
	}
	if err != nil {
		return 0, false, fmt.Errorf("precompress %s: %w", name+enc.ext, err)
	}
	fi, err := os.Stat(name + enc.ext)
	if err != nil {
		return 0, false, err
	}
	return fi.Size(), false, nil
}

// sameContent reports whether the file called variant, decoded with enc,
// has the same bytes as the file called name.
func sameContent(name, variant string, enc encoding) bool {
	want, err := digest(name, nil)
	if err != nil {
		return false
	}
	got, err := digest(variant, enc.newReader)
	return err == nil && bytes.Equal(got, want)
}

// digest returns the SHA-256 of the file called name, decoded by decode
// unless it is nil.
func digest(name string, decode func(io.Reader) (io.Reader, error)) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if decode != nil {
		if r, err = decode(f); err != nil {
			return nil, err
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ctxReader reads from r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
