//go:build js && wasm

package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
)

// fakePage answers a worker's requests for training images as web/trainset.js does, over one
// end of a MessageChannel: image n is imageBytes bytes of value n. It records each request's
// indices. With short set, it answers with one byte too few.
type fakePage struct {
	port     safejs.Value
	fn       safejs.Func
	requests [][]int32
	short    bool
}

func newFakePage(t *testing.T, port safejs.Value) *fakePage {
	t.Helper()
	page := &fakePage{port: port}
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		data, _ := arg(args, 0).Get("data")
		seq, _ := data.Get("seq")
		buf, _ := data.Get("indices")
		view := jsNew(t, "Uint8Array", buf)
		n, _ := view.Length()
		raw := make([]byte, n)
		if _, err := safejs.CopyBytesToGo(raw, view); err != nil {
			t.Error(err)
		}
		indices := make([]int32, n/4)
		copy(asBytes(indices), raw)
		page.requests = append(page.requests, indices)
		pixels := make([]byte, len(indices)*imageBytes)
		for i, idx := range indices {
			for j := range imageBytes {
				pixels[i*imageBytes+j] = byte(idx)
			}
		}
		if page.short {
			pixels = pixels[:len(pixels)-1]
		}
		out, err := bytesToJS(pixels)
		if err != nil {
			t.Error(err)
		}
		if _, err := port.Call("postMessage", jsObject(t, map[string]any{"seq": seq, "pixels": out})); err != nil {
			t.Error(err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page.fn = fn
	if err := port.Set("onmessage", fn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = port.Set("onmessage", nil)
		_, _ = port.Call("close")
		fn.Release()
	})
	return page
}

// TestPageImagesPieces: one prefetch of several steps' images is one request to the page, and
// the Images calls that follow take it piece by piece, each with its own pixels; an Images call
// that is not the prefetch's next piece drops the prefetch and asks again; an answer of the wrong
// size is an error.
func TestPageImagesPieces(t *testing.T) {
	channel := jsNew(t, "MessageChannel")
	pagePort, _ := channel.Get("port1")
	workerPort, _ := channel.Get("port2")
	page := newFakePage(t, pagePort)
	src, err := newPageImages(workerPort)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	images := func(indices ...int32) error {
		t.Helper()
		dst := make([]byte, len(indices)*imageBytes)
		if err := src.Images(indices, dst); err != nil {
			return err
		}
		for i, idx := range indices {
			if want := bytes.Repeat([]byte{byte(idx)}, imageBytes); !bytes.Equal(dst[i*imageBytes:(i+1)*imageBytes], want) {
				t.Fatalf("Images(%v): image %d is not image %d's pixels", indices, i, idx)
			}
		}
		return nil
	}
	src.Prefetch([]int32{1, 2, 3, 4, 5})
	for _, piece := range [][]int32{{1, 2}, {3}, {4, 5}} {
		if err := images(piece...); err != nil {
			t.Fatal(err)
		}
	}
	if want := [][]int32{{1, 2, 3, 4, 5}}; !slices.EqualFunc(page.requests, want, slices.Equal) {
		t.Fatalf("the page was asked %v, want %v", page.requests, want)
	}

	// A run that stopped and started again asks for other images: the prefetch is dropped.
	src.Prefetch([]int32{6, 7, 8})
	if err := images(6); err != nil {
		t.Fatal(err)
	}
	if err := images(9, 10); err != nil {
		t.Fatal(err)
	}
	if err := images(11); err != nil {
		t.Fatal(err)
	}
	if want := [][]int32{{1, 2, 3, 4, 5}, {6, 7, 8}, {9, 10}, {11}}; !slices.EqualFunc(page.requests, want, slices.Equal) {
		t.Fatalf("the page was asked %v, want %v", page.requests, want)
	}

	page.short = true
	src.Prefetch([]int32{12, 13})
	err = images(12)
	if err == nil || !strings.Contains(err.Error(), "the page gave 1567 bytes of training images, want 1568") {
		t.Fatalf("a short answer: got %v", err)
	}
}
