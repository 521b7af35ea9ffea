//go:build js && wasm

package main

// This file connects the workers of a data-parallel training run (model.Shard; web/protocol.md,
// "Several workers"). The page gives worker 0 one MessagePort to each other worker. For every
// Reduce, each worker i > 0 sends its vector to worker 0; worker 0 combines them in shard order
// (its own first), with the combine the model passes (the same on every worker: the model's fixed
// order of sums, model/shard.go), and sends the result back to all. The vectors travel as
// ArrayBuffers of float32, transferred, not copied, wherever a buffer has one receiver.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/model"
)

// peers is this worker's place among the page's workers, and its ports to the others.
type peers struct {
	index, count int
	// ports: on worker 0, ports[i-1] leads to worker i; on worker i > 0, ports[0] leads to worker 0.
	ports []safejs.Value
	funcs []safejs.Func // the ports' onmessage handlers, released by close

	mu     sync.Mutex
	inbox  [][]peerMessage // per port, in arrival order
	bad    error           // a malformed message: every later reduce fails with it
	notify chan struct{}   // a message arrived; the one waiter (the training goroutine) looks again
}

// peerMessage is one vector of a Reduce: {run, seq, v: ArrayBuffer}. run is the page's number of
// the training run, seq counts the Reduce calls of the run from 1.
type peerMessage struct {
	run, seq int
	data     safejs.Value
}

// newPeers listens on ports for this worker, index of count.
func newPeers(index, count int, ports []safejs.Value) (*peers, error) {
	p := &peers{index: index, count: count, ports: ports, inbox: make([][]peerMessage, len(ports)),
		notify: make(chan struct{}, 1)}
	for i, port := range ports {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			p.receive(i, arg(args, 0))
			return nil
		})
		if err != nil {
			p.close()
			return nil, err
		}
		p.funcs = append(p.funcs, f)
		if err := port.Set("onmessage", f); err != nil { // setting onmessage also starts the port
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// close stops listening; messages still in flight are dropped.
func (p *peers) close() {
	for _, port := range p.ports {
		_ = port.Set("onmessage", nil)
		_, _ = port.Call("close")
	}
	for _, f := range p.funcs {
		f.Release()
	}
	p.funcs = nil
}

// receive queues a message from port i. It runs as an event handler, so it must not block.
func (p *peers) receive(i int, event safejs.Value) {
	m, err := parsePeerMessage(event)
	p.mu.Lock()
	if err != nil {
		if p.bad == nil {
			p.bad = fmt.Errorf("a message from another worker is malformed: %v", err)
		}
	} else {
		p.inbox[i] = append(p.inbox[i], m)
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func parsePeerMessage(event safejs.Value) (peerMessage, error) {
	data, err := event.Get("data")
	if err != nil {
		return peerMessage{}, err
	}
	run, err := intField(data, "run", -1)
	if err != nil {
		return peerMessage{}, err
	}
	seq, err := intField(data, "seq", -1)
	if err != nil {
		return peerMessage{}, err
	}
	v, err := data.Get("v")
	if err != nil {
		return peerMessage{}, err
	}
	if run < 0 || seq < 0 || v.Type() != safejs.TypeObject {
		return peerMessage{}, errors.New("want {run, seq, v: ArrayBuffer}")
	}
	return peerMessage{run: run, seq: seq, data: v}, nil
}

// shard returns this worker's model.Shard for training run run, trained by the team's first team
// workers (the page may leave the others idle: trainer.js measures which team is fastest). Its
// Reduce fails with ctx's cause once ctx is done, so that a stopped or aborted run never waits for
// a worker that has gone. A team of one, on a worker that joined a team or not (p nil), has no
// shard.
func (p *peers) shard(ctx context.Context, run, team int) *model.Shard {
	if team < 2 {
		return nil // alone: the same bits as any team (model.Shard), with no exchanges
	}
	seq := 0
	return &model.Shard{Index: p.index, Count: team, Reduce: func(v []float32, combine model.Combine) ([]float32, error) {
		seq++
		if p.index == 0 {
			return p.gather(ctx, run, seq, team, v, combine)
		}
		return p.exchange(ctx, run, seq, v)
	}}
}

// gather is worker 0's Reduce: it waits for the vector of every other worker of the run's team,
// combines them in shard order and sends the result back to each.
func (p *peers) gather(ctx context.Context, run, seq, team int, v []float32, combine model.Combine) ([]float32, error) {
	parts := make([][]float32, team)
	parts[0] = v
	for i := 1; i < team; i++ {
		m, err := p.next(ctx, i-1, run, seq)
		if err != nil {
			return nil, err
		}
		if parts[i], err = float32sFromJS(m.data); err != nil {
			return nil, fmt.Errorf("reduce: worker %d: %v", i, err)
		}
	}
	total, err := combine(parts)
	if err != nil {
		return nil, err
	}
	buf, err := float32sToJS(total)
	if err != nil {
		return nil, err
	}
	msg := map[string]any{"run": run, "seq": seq, "v": buf}
	for i, port := range p.ports[:team-1] {
		transfer := []any{}
		if i == team-2 {
			transfer = []any{buf} // the last receiver takes the buffer; the others got copies
		}
		if _, err := port.Call("postMessage", msg, transfer); err != nil {
			return nil, fmt.Errorf("reduce: sending the total to worker %d: %v", i+1, err)
		}
	}
	return total, nil
}

// exchange is the Reduce of worker i > 0: it sends v to worker 0 and waits for the total.
func (p *peers) exchange(ctx context.Context, run, seq int, v []float32) ([]float32, error) {
	buf, err := float32sToJS(v)
	if err != nil {
		return nil, err
	}
	if _, err := p.ports[0].Call("postMessage", map[string]any{"run": run, "seq": seq, "v": buf}, []any{buf}); err != nil {
		return nil, fmt.Errorf("reduce: sending to worker 0: %v", err)
	}
	m, err := p.next(ctx, 0, run, seq)
	if err != nil {
		return nil, err
	}
	return float32sFromJS(m.data)
}

// next waits for the next message of run on port i, which must be the seq-th. Messages of earlier
// runs are dropped: a stopped run can leave some in flight.
func (p *peers) next(ctx context.Context, i, run, seq int) (peerMessage, error) {
	for {
		p.mu.Lock()
		q := p.inbox[i]
		for len(q) > 0 && q[0].run < run {
			q = q[1:]
		}
		p.inbox[i] = q
		bad := p.bad
		var m peerMessage
		found := len(q) > 0 && q[0].run == run
		if found {
			m, p.inbox[i] = q[0], q[1:]
		}
		p.mu.Unlock()
		switch {
		case bad != nil:
			return peerMessage{}, bad
		case found && m.seq != seq:
			// Every worker calls Reduce the same number of times in the same order (model.Shard).
			return peerMessage{}, fmt.Errorf("reduce: the workers are out of step (vector %d of run %d, expected %d)", m.seq, run, seq)
		case found:
			return m, nil
		}
		select {
		case <-p.notify:
		case <-ctx.Done():
			return peerMessage{}, context.Cause(ctx)
		}
	}
}

// float32Bytes views v's memory as bytes (wasm and JS typed arrays are both little-endian).
func float32Bytes(v []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

// float32sToJS copies v into a new ArrayBuffer.
func float32sToJS(v []float32) (safejs.Value, error) {
	arr, err := bytesToJS(float32Bytes(v))
	if err != nil {
		return safejs.Value{}, err
	}
	return arr.Get("buffer")
}

// float32sFromJS copies an ArrayBuffer of float32 into Go.
func float32sFromJS(buf safejs.Value) ([]float32, error) {
	class, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	arr, err := class.New(buf)
	if err != nil {
		return nil, fmt.Errorf("expected an ArrayBuffer: %v", err)
	}
	n, err := arr.Length()
	if err != nil || n%4 != 0 {
		return nil, fmt.Errorf("expected an ArrayBuffer of float32, got %d bytes", n)
	}
	v := make([]float32, n/4)
	if _, err := safejs.CopyBytesToGo(float32Bytes(v), arr); err != nil {
		return nil, err
	}
	return v, nil
}
