//go:build js && wasm

package main

// This file is the worker's side of the training images the page keeps (web/trainset.js). A
// worker's WebAssembly memory never shrinks, and the training images are 47 MB: held by every
// worker, they were most of its memory and were counted once per worker in the tab's. So one
// worker unpacks them for the page (unpackImages), and every worker asks the page for its part of
// each batch over a MessagePort of its own: {seq, indices: Int32Array} out, {seq, pixels:
// Uint8Array} or {seq, error} back, in order. A request asks for the images of several steps
// (mnist.ImageSource's Prefetch, model's prefetchSteps) while a step trains, so the answer is
// waiting when it is needed, and each answer serves those steps' Images calls one piece at a time:
// every message wakes the page's main thread.

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/mnist"
)

// pageImages is an mnist.ImageSource over the page's port.
type pageImages struct {
	port safejs.Value
	fn   safejs.Func // the port's onmessage handler

	mu         sync.Mutex
	seq        int               // the last request's number
	prefetched []request         // requests Prefetch sent, not yet wholly taken by Images, oldest first
	wanted     map[int]bool      // requests whose answers are still wanted
	replies    map[int]imageData // answers, by request
	bad        error             // a malformed message: every later Images fails with it
	notify     chan struct{}     // an answer arrived; the one waiter (the training goroutine) looks again
}

type request struct {
	seq     int
	indices []int32
	taken   int // how many of indices Images has taken, from the first
}

type imageData struct {
	pixels safejs.Value // a Uint8Array
	err    error
}

// newPageImages listens on port, a MessagePort to the page's images.
func newPageImages(port safejs.Value) (*pageImages, error) {
	p := &pageImages{port: port, wanted: make(map[int]bool), replies: make(map[int]imageData), notify: make(chan struct{}, 1)}
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		p.receive(arg(args, 0))
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.fn = fn
	if err := port.Set("onmessage", fn); err != nil { // setting onmessage also starts the port
		fn.Release()
		return nil, err
	}
	return p, nil
}

// Close stops listening; answers still in flight are dropped. The session closes the images of
// the data it replaces (session.Session.SetData).
func (p *pageImages) Close() error {
	_ = p.port.Set("onmessage", nil)
	_, _ = p.port.Call("close")
	p.fn.Release()
	return nil
}

// receive stores an answer. It runs as an event handler, so it must not block.
func (p *pageImages) receive(event safejs.Value) {
	eventTurns.Add(1)
	seq, d, err := parseImagesMessage(event)
	p.mu.Lock()
	switch {
	case err != nil:
		if p.bad == nil {
			p.bad = fmt.Errorf("a message from the page's training images is malformed: %v", err)
		}
	case p.wanted[seq]:
		p.replies[seq] = d
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func parseImagesMessage(event safejs.Value) (seq int, d imageData, err error) {
	data, err := event.Get("data")
	if err != nil {
		return 0, d, err
	}
	if seq, err = intField(data, "seq", -1); err != nil || seq < 1 {
		return 0, d, fmt.Errorf("want {seq, pixels} or {seq, error} (%v)", err)
	}
	if msg, err := data.Get("error"); err == nil && !msg.IsUndefined() {
		text, _ := jsString(msg)
		return seq, imageData{err: fmt.Errorf("the page could not give the training images: %s", text)}, nil
	}
	if d.pixels, err = data.Get("pixels"); err != nil || d.pixels.Type() != safejs.TypeObject {
		return 0, d, fmt.Errorf("want {seq, pixels: Uint8Array} (%v)", err)
	}
	return seq, d, nil
}

// send asks the page for indices and returns the request's number.
func (p *pageImages) send(indices []int32) (int, error) {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.wanted[seq] = true
	p.mu.Unlock()
	arr, err := bytesToJS(asBytes(indices))
	var msg, buf safejs.Value
	if err == nil {
		buf, err = arr.Get("buffer")
	}
	if err == nil {
		msg, err = newObject("seq", seq, "indices", buf) // indices: an ArrayBuffer of int32
	}
	if err == nil {
		_, err = p.port.Call("postMessage", msg)
	}
	if err != nil {
		return 0, fmt.Errorf("asking the page for training images: %v", err)
	}
	return seq, nil
}

// Prefetch sends the request for indices now; Images takes its answer.
func (p *pageImages) Prefetch(indices []int32) {
	seq, err := p.send(indices)
	if err != nil {
		logError(err.Error()) // Images asks again, and reports the error
		return
	}
	p.mu.Lock()
	p.prefetched = append(p.prefetched, request{seq: seq, indices: slices.Clone(indices)})
	p.mu.Unlock()
}

// Images writes the images at indices into dst, from the answer to the request Prefetch sent for
// them (the next piece of it), or to a new one. Requests whose next piece is not indices (a run
// stopped before it used them) are dropped, and so are their answers.
func (p *pageImages) Images(indices []int32, dst []byte) error {
	seq, from, total, last := 0, 0, len(indices), true
	p.mu.Lock()
	for len(p.prefetched) > 0 {
		r := &p.prefetched[0]
		rest := r.indices[r.taken:]
		if len(indices) > 0 && len(rest) >= len(indices) && slices.Equal(rest[:len(indices)], indices) {
			seq, from, total = r.seq, r.taken, len(r.indices)
			r.taken += len(indices)
			if last = r.taken == len(r.indices); last {
				p.prefetched = p.prefetched[1:]
			}
			break
		}
		delete(p.wanted, r.seq)
		delete(p.replies, r.seq)
		p.prefetched = p.prefetched[1:]
	}
	p.mu.Unlock()
	if seq == 0 {
		var err error
		if seq, err = p.send(indices); err != nil {
			return err
		}
	}
	for {
		p.mu.Lock()
		d, ok := p.replies[seq]
		bad := p.bad
		if ok && last {
			delete(p.replies, seq)
			delete(p.wanted, seq)
		}
		p.mu.Unlock()
		switch {
		case ok:
			return copyPixels(d, total*imageBytes, from*imageBytes, dst)
		case bad != nil:
			return bad
		}
		<-p.notify
	}
}

// imageBytes is the size of one training image.
const imageBytes = mnist.ImageSize * mnist.ImageSize

// copyPixels copies len(dst) bytes from byte at of an answer, which must be size bytes, into dst.
func copyPixels(d imageData, size, at int, dst []byte) error {
	if d.err != nil {
		return d.err
	}
	n, err := d.pixels.Length()
	if err != nil || n != size {
		return fmt.Errorf("the page gave %d bytes of training images, want %d", n, size)
	}
	piece := d.pixels
	if len(dst) < n {
		if piece, err = d.pixels.Call("subarray", at, at+len(dst)); err != nil {
			return err
		}
	}
	_, err = safejs.CopyBytesToGo(dst, piece)
	return err
}
