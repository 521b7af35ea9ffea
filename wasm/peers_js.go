//go:build js && wasm

package main

// This file connects the workers of a data-parallel training run (model.Shard; web/protocol.md,
// "Sums between workers"). Worker 0 has a port to each other worker, and each other worker one to
// worker 0 (worker.js, teamPorts: they act as MessagePorts, over the postMessage of the workers
// worker 0 starts and of worker 0 itself, without the page). For
// every exchange (model.Shard's Start), each worker i > 0 sends its vector to worker 0 at once;
// worker 0, when the model waits for the result, combines them in shard order (its own first),
// with the combine the model passes (the same on every worker: the model's fixed order of sums,
// model/shard.go), and sends the result back to all. Between Start and its wait the model
// computes what does not need the result, so the messages travel meanwhile. The vectors travel
// as ArrayBuffers of float32, transferred, not copied, wherever a buffer has one receiver.
//
// Worker 0 alone combines: every worker combining all of a step's vectors (each sending its own to
// each other worker) held 7-15 MB more WebAssembly memory on worker 1, for no speed measured
// (Chromium, Firefox and WebKit, a team of two, alternating).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/model"
)

// peers is this worker's place among the page's workers, and its ports to the others: the
// session's Peers.
type peers struct {
	index, count int
	// ports: on worker 0, ports[i-1] leads to worker i; on worker i > 0, ports[0] leads to worker 0.
	ports []safejs.Value
	funcs []safejs.Func // the ports' onmessage handlers, released by close

	// spare, per port, is the ArrayBuffer of the last large vector (a step's gradients) that came
	// from there, once read: the next large vector sent there goes back in it. One buffer then
	// travels to and fro, and no step leaves megabytes of ArrayBuffers for the JS collector, which
	// frees them late: the tab's memory grew by about 100 MB over a run with two workers. Small
	// vectors (a normalisation's sums, a few kilobytes) travel in buffers of their own, never in
	// the spare: Firefox's team of two trained at 172 images/s when the 1.5 MB buffer also
	// carried them, and at 334–352 without (Chromium's memory is the same either way).
	spare []safejs.Value
	// parts, on worker 0, per port, is the Go memory the vectors from there are read into for the
	// combine, which only reads them: one slice per port and size, reused from exchange to
	// exchange within a run, and counted in worker 0's memory limit (session's memoryLimit). A new
	// slice each time was 3 MB a step afresh for the gradients of worker 1 of two.
	parts []map[int][]float32

	mu     sync.Mutex
	inbox  [][]peerMessage // per port, in arrival order
	bad    error           // a malformed message: every later reduce fails with it
	notify chan struct{}   // a message arrived; the one waiter (the training goroutine) looks again
}

// spareMin is the size from which a vector travels in its port's spare buffer (peers.spare).
const spareMin = 64 << 10

// peerMessage is one vector of an exchange: {run, seq, v: ArrayBuffer, n}, the vector being the
// first n float32 of v. run is the page's number of the training run, seq counts the exchanges
// of the run from 1.
type peerMessage struct {
	run, seq, n int
	data        safejs.Value
}

// newPeers listens on ports for this worker, index of count.
func newPeers(index, count int, ports []safejs.Value) (*peers, error) {
	p := &peers{index: index, count: count, ports: ports, inbox: make([][]peerMessage, len(ports)),
		spare: make([]safejs.Value, len(ports)), notify: make(chan struct{}, 1)}
	for i, port := range ports {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			p.receive(i, arg(args, 0))
			return nil
		})
		if err != nil {
			p.Close()
			return nil, err
		}
		p.funcs = append(p.funcs, f)
		if err := port.Set("onmessage", f); err != nil { // setting onmessage also starts the port
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close stops listening; messages still in flight are dropped.
func (p *peers) Close() {
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
	eventTurns.Add(1)
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
	nums := numbers{obj: data}
	run, seq, n := nums.get("run", -1), nums.get("seq", -1), nums.get("n", -1)
	if nums.err != nil {
		return peerMessage{}, nums.err
	}
	v, err := data.Get("v")
	if err != nil {
		return peerMessage{}, err
	}
	if run < 0 || seq < 0 || n < 0 || v.Type() != safejs.TypeObject {
		return peerMessage{}, errors.New("want {run, seq, v: ArrayBuffer, n}")
	}
	return peerMessage{run: run, seq: seq, n: n, data: v}, nil
}

// Index is this worker's number among the workers that joined (session.Peers).
func (p *peers) Index() int { return p.index }

// Count is how many workers joined.
func (p *peers) Count() int { return p.count }

// Shard returns this worker's model.Shard for training run run, trained by the team's first team
// workers (the page may leave the others idle: team.js measures which team is fastest). Its
// waits fail with ctx's cause once ctx is done, so that a stopped or aborted run never waits for
// a worker that has gone. A team of one has no shard.
func (p *peers) Shard(ctx context.Context, run, team int) *model.Shard {
	if team < 2 {
		return nil // alone: the same bits as any team (model.Shard), with no exchanges
	}
	seq := 0
	p.parts = make([]map[int][]float32, len(p.ports)) // the sizes of the last run's network: gone
	return &model.Shard{Index: p.index, Count: team, Start: func(v []float32, combine model.Combine) func() ([]float32, error) {
		seq++
		seq := seq
		if p.index == 0 {
			// Worker 0 gathers when its caller waits: the others' vectors queue meanwhile.
			return func() ([]float32, error) { return p.gather(ctx, run, seq, team, v, combine) }
		}
		if err := p.send(0, run, seq, v); err != nil {
			return func() ([]float32, error) { return nil, fmt.Errorf("reduce: sending to worker 0: %v", err) }
		}
		return func() ([]float32, error) { return p.receive0(ctx, run, seq) }
	}}
}

// gather is worker 0's wait: it waits for the vector of every other worker of the run's team,
// combines them in shard order and sends the result back to each.
func (p *peers) gather(ctx context.Context, run, seq, team int, v []float32, combine model.Combine) ([]float32, error) {
	parts := make([][]float32, team)
	parts[0] = v
	for i := 1; i < team; i++ {
		m, err := p.next(ctx, i-1, run, seq)
		if err != nil {
			return nil, err
		}
		if parts[i], err = p.read(i-1, m, true); err != nil {
			return nil, fmt.Errorf("reduce: worker %d: %v", i, err)
		}
	}
	total, err := combine(parts)
	if err != nil {
		return nil, err
	}
	for i := range team - 1 {
		if err := p.send(i, run, seq, total); err != nil {
			return nil, fmt.Errorf("reduce: sending the total to worker %d: %v", i+1, err)
		}
	}
	return total, nil
}

// part returns worker 0's slice of n float32 for the vectors from port i (peers.parts). A team
// exchanges vectors of a few sizes only (a normalisation's sums, the gradients), so a slice per
// size holds them all.
func (p *peers) part(i, n int) []float32 {
	if p.parts[i] == nil {
		p.parts[i] = map[int][]float32{}
	}
	v, ok := p.parts[i][n]
	if !ok {
		v = make([]float32, n)
		p.parts[i][n] = v
	}
	return v
}

// read copies the vector of m, which came from port i, into Go: into the port's slice of its size
// if reuse (peers.parts), else into a new one. It keeps m's buffer for the next large vector sent
// there. The slice is had only once m.n has proved to fit m's buffer, so that a malformed message
// gets an error, not an allocation of whatever size it claims.
func (p *peers) read(i int, m peerMessage, reuse bool) ([]float32, error) {
	class, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	arr, err := class.New(m.data, 0, 4*m.n)
	if err != nil {
		return nil, fmt.Errorf("expected an ArrayBuffer of at least %d float32: %v", m.n, err)
	}
	var v []float32
	if reuse {
		v = p.part(i, m.n)
	} else {
		v = make([]float32, m.n)
	}
	if _, err := safejs.CopyBytesToGo(asBytes(v), arr); err != nil {
		return nil, err
	}
	if 4*m.n >= spareMin {
		p.spare[i] = m.data
	}
	return v, nil
}

// send posts v to port i as {run, seq, v, n}, in the port's spare buffer if v is large and it
// fits, else in a new one, and transfers the buffer.
func (p *peers) send(i, run, seq int, v []float32) error {
	buf := safejs.Undefined()
	if 4*len(v) >= spareMin {
		buf = p.spare[i]
		p.spare[i] = safejs.Undefined()
	}
	size := 0
	if buf.Type() == safejs.TypeObject {
		if n, err := buf.Get("byteLength"); err == nil {
			size, _ = n.Int()
		}
	}
	class, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return err
	}
	var arr safejs.Value
	if size >= 4*len(v) {
		arr, err = class.New(buf, 0, 4*len(v))
	} else {
		arr, err = class.New(4 * len(v))
		if err == nil {
			buf, err = arr.Get("buffer")
		}
	}
	if err != nil {
		return err
	}
	if _, err := safejs.CopyBytesToJS(arr, asBytes(v)); err != nil {
		return err
	}
	msg, err := newObject("run", run, "seq", seq, "n", len(v), "v", buf)
	if err == nil {
		_, err = p.ports[i].Call("postMessage", msg, []any{buf})
	}
	return err
}

// receive0 is the wait of worker i > 0, which sent its vector to worker 0: the total of the seq-th
// exchange of run, from worker 0.
func (p *peers) receive0(ctx context.Context, run, seq int) ([]float32, error) {
	m, err := p.next(ctx, 0, run, seq)
	if err != nil {
		return nil, err
	}
	return p.read(0, m, false) // the model's to keep
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
			// Every worker starts the same exchanges in the same order (model.Shard).
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

// asBytes views v's memory as bytes (wasm and JS typed arrays are both little-endian).
func asBytes[T float32 | int32](v []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), int(unsafe.Sizeof(T(0)))*len(v))
}
