package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/mnist"
)

// siteMarker marks a folder written by WriteSite, which WriteSite may then empty and write again.
const siteMarker = ".mnist-trainer-site"

// WriteSite writes m.SiteDir: a folder that any static file host serves, with no Go server: the
// page, its scripts and styles, main.wasm.gz (not main.wasm: hosts that do not negotiate
// Content-Encoding would send 12 MB; the page un-gzips it, web/wasmload.js), wasm_exec.js and
// the MNIST files under data/. It refuses to replace a non-empty folder it did not write.
func (m *Main) WriteSite(ctx context.Context) error {
	out := m.SiteDir
	if m.DataDir == "" {
		dir, err := mnistdir.Find()
		if err != nil {
			return fmt.Errorf("cannot find the MNIST files (pass -data DIR): %w", err)
		}
		m.DataDir = dir
	}
	wasm, err := os.Stat(filepath.Join(m.WebDir, "main.wasm"))
	if err != nil {
		return fmt.Errorf("-site: %w (run make wasm first)", err)
	}
	if gz, err := os.Stat(filepath.Join(m.WebDir, "main.wasm.gz")); err != nil || gz.ModTime().Before(wasm.ModTime()) {
		return fmt.Errorf("-site: %s/main.wasm.gz is missing or older than main.wasm (run make wasm)", m.WebDir)
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(out, siteMarker)); err != nil {
			return fmt.Errorf("-site %s: the folder is not empty and was not written by -site; choose another", out)
		}
		if err := os.RemoveAll(out); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(out, "data"), 0o755); err != nil {
		return err
	}
	var files int
	var size int64
	copyFile := func(from, to string) error {
		n, err := copyRegular(from, to)
		files++
		size += n
		return err
	}
	err = filepath.WalkDir(m.WebDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(m.WebDir, p)
		name := d.Name()
		switch {
		case rel == ".":
			return nil
		case strings.HasPrefix(name, "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(out, rel), 0o755)
		case rel == "main.wasm" || strings.HasSuffix(name, ".br") || !d.Type().IsRegular():
			return nil
		}
		return copyFile(p, filepath.Join(out, rel))
	})
	if err != nil {
		return fmt.Errorf("-site: %w", err)
	}
	if _, err := os.Stat(filepath.Join(out, "wasm_exec.js")); errors.Is(err, fs.ErrNotExist) {
		exec := findWasmExec(ctx)
		if exec == "" {
			return errors.New("-site: no wasm_exec.js in -web or the Go toolchain")
		}
		if err := copyFile(exec, filepath.Join(out, "wasm_exec.js")); err != nil {
			return err
		}
	}
	for _, f := range mnist.KnownFiles {
		if err := copyFile(filepath.Join(m.DataDir, f.Name), filepath.Join(out, "data", f.Name)); err != nil {
			return fmt.Errorf("-site: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, siteMarker), []byte("written by go run ./serve -site\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: %d files, %.1f MB; serve it with any static file server\n", out, files, float64(size)/1e6)
	return nil
}

// copyRegular copies the regular file from to the new file to, and returns its size.
func copyRegular(from, to string) (int64, error) {
	src, err := os.Open(from)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	if fi, err := src.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: not a regular file", from)
	}
	dst, err := os.Create(to)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return n, err
}
