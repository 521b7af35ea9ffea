//go:build js && wasm

package main

// This file is the boundary with JavaScript: Promises, errors, and conversions of values.

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/session"
)

// asyncFunc wraps fn as a JS function that returns a Promise. fn runs on its own goroutine, because
// a js.Func handler must not block; a panic in it rejects the Promise instead of killing the program.
func asyncFunc(name string, fn func(args []safejs.Value) (any, error)) func(safejs.Value, []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = jsError(session.Coded(session.CodeInternal, "", fmt.Errorf("%s: internal error: %v", name, r)))
			}
		}()
		p, settle, err := newPromise()
		if err != nil {
			// Without a Promise there is nothing to settle later: answer with the Error itself.
			return jsError(fmt.Errorf("%s: %v", name, err))
		}
		go func() {
			defer func() {
				if r := recover(); r != nil {
					logError(fmt.Sprintf("%s: panic: %v\n%s", name, r, debug.Stack()))
					settle(nil, session.Coded(session.CodeInternal, "", fmt.Errorf("%s: internal error: %v", name, r)))
				}
			}()
			settle(fn(args))
		}()
		return p
	}
}

// newPromise returns a pending Promise and the function that settles it: with the value converted
// by toJS, or rejected with err as a JS Error.
func newPromise() (safejs.Value, func(any, error), error) {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return safejs.Value{}, nil, err
	}
	defer executor.Release() // the Promise constructor calls it synchronously
	promiseClass, err := safejs.Global().Get("Promise")
	if err != nil {
		return safejs.Value{}, nil, err
	}
	p, err := promiseClass.New(executor)
	if err != nil {
		return safejs.Value{}, nil, err
	}
	settle := func(v any, err error) {
		var jv safejs.Value
		if err == nil {
			jv, err = toJS(v)
		}
		if err != nil {
			_, err = reject.Invoke(jsError(err))
		} else {
			_, err = resolve.Invoke(jv)
		}
		if err != nil {
			logError("settling a promise: " + err.Error())
		}
	}
	return p, settle, nil
}

// jsError returns err as a JS Error with error.code and, where a setting is at fault, error.key
// (session.ErrorCode; web/protocol.md, "Errors"). The page branches on the code, never on the
// message, which is written for people and may be reworded.
func jsError(err error) safejs.Value {
	class, _ := safejs.Global().Get("Error")
	e, jerr := class.New(err.Error())
	if jerr != nil {
		return safejs.Undefined()
	}
	code, key := session.ErrorCode(err)
	_ = e.Set("code", code)
	if key != "" {
		_ = e.Set("key", key)
	}
	return e
}

// toJS converts a Go result to a JS value: JS values pass through, []byte becomes a Uint8Array,
// and anything else travels as JSON, which gives the page plain objects with the json tags' names.
func toJS(v any) (safejs.Value, error) {
	switch v := v.(type) {
	case safejs.Value:
		return v, nil
	case []byte:
		return bytesToJS(v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("encoding the result: %v", err)
	}
	jsonObj, err := safejs.Global().Get("JSON")
	if err != nil {
		return safejs.Value{}, err
	}
	return jsonObj.Call("parse", string(data))
}

// newObject returns a JS object with fields set in order (name, value, name, value...): for the
// messages of every step, the sums between workers and the requests for images, where toJS
// encoded the fields as JSON in Go and parsed them in JS, 7 times a step on each worker of a team
// (and kept encoding/json's map encoder among the functions WebKit compiles in a first run).
func newObject(fields ...any) (safejs.Value, error) {
	class, err := safejs.Global().Get("Object")
	if err != nil {
		return safejs.Value{}, err
	}
	obj, err := class.New()
	for i := 0; err == nil && i+1 < len(fields); i += 2 {
		err = obj.Set(fields[i].(string), fields[i+1])
	}
	return obj, err
}

func bytesToJS(data []byte) (safejs.Value, error) {
	class, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return safejs.Value{}, err
	}
	arr, err := class.New(len(data))
	if err != nil {
		return safejs.Value{}, err
	}
	_, err = safejs.CopyBytesToJS(arr, data)
	return arr, err
}

// bytesFromJS copies a Uint8Array (or ArrayBuffer) into Go; what names the value in errors.
func bytesFromJS(v safejs.Value, what string) ([]byte, error) {
	if v.Type() == safejs.TypeObject {
		if buffer, err := safejs.Global().Get("ArrayBuffer"); err == nil {
			if ok, _ := v.InstanceOf(buffer); ok {
				class, _ := safejs.Global().Get("Uint8Array")
				if v, err = class.New(v); err != nil {
					return nil, err
				}
			}
		}
	}
	n, err := v.Get("length")
	if err != nil || n.Type() != safejs.TypeNumber {
		return nil, fmt.Errorf("%s: expected a Uint8Array", what)
	}
	length, _ := n.Int()
	data := make([]byte, length)
	if _, err := safejs.CopyBytesToGo(data, v); err != nil {
		return nil, fmt.Errorf("%s: expected a Uint8Array: %v", what, err)
	}
	return data, nil
}

// arg returns args[i], or undefined when the caller passed fewer.
func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// intField reads the number obj[key]; a missing key gives def.
func intField(obj safejs.Value, key string, def int) (int, error) {
	if obj.Type() != safejs.TypeObject {
		return def, nil
	}
	v, err := obj.Get(key)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return def, nil
	}
	if v.Type() != safejs.TypeNumber {
		return 0, fmt.Errorf("%s must be a number", key)
	}
	f, _ := v.Float()
	if f != float64(int(f)) {
		return 0, fmt.Errorf("%s must be a whole number, got %v", key, f)
	}
	return int(f), nil
}

// numbers reads several whole numbers of one object with intField, keeping the first error: once
// there is one, get reads nothing more and returns 0.
type numbers struct {
	obj safejs.Value
	err error
}

func (n *numbers) get(key string, def int) int {
	if n.err != nil {
		return 0
	}
	v, err := intField(n.obj, key, def)
	n.err = err
	return v
}

// hasField reports whether obj has a defined property key.
func hasField(obj safejs.Value, key string) bool {
	if obj.Type() != safejs.TypeObject {
		return false
	}
	v, err := obj.Get(key)
	return err == nil && !v.IsUndefined()
}

// jsString converts any JS value to text as String(v) does: a number 5 becomes "5".
func jsString(v safejs.Value) (string, error) {
	fn, err := safejs.Global().Get("String")
	if err != nil {
		return "", err
	}
	s, err := fn.Invoke(v)
	if err != nil {
		return "", err
	}
	return s.String()
}

// objectEntries returns obj's own enumerable properties as text, for settings objects.
func objectEntries(obj safejs.Value) (map[string]string, error) {
	object, err := safejs.Global().Get("Object")
	if err != nil {
		return nil, err
	}
	keys, err := object.Call("keys", obj)
	if err != nil {
		return nil, err
	}
	n, err := keys.Length()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, n)
	for i := range n {
		k, err := keys.Index(i)
		if err != nil {
			return nil, err
		}
		key, err := k.String()
		if err != nil {
			return nil, err
		}
		v, err := obj.Get(key)
		if err != nil {
			return nil, err
		}
		if out[key], err = jsString(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// logError writes a message to the worker's console, for developers.
func logError(msg string) {
	if console, err := safejs.Global().Get("console"); err == nil {
		_, _ = console.Call("error", "mnist wasm: "+strings.TrimSpace(msg))
	}
}

// yielder lets a busy goroutine give the JS event loop a turn. Go does not return to the event
// loop while any goroutine can run (golang/go#39620), so without this, messages from the page
// (pause, stop, predict) would wait until training ends. yield posts a message to a
// MessageChannel and blocks until its handler runs: every task queued meanwhile runs first.
//
// A worker of a team gets that turn anyway: it waits for the other workers' sums several times
// a step, and Go then returns to the event loop, which runs the tasks queued so far before the
// sum's (eventTurns). yield then returns at once: in WebKit a MessageChannel's message wakes the
// page's main thread several times, even within a worker, and took about 1 ms.
type yielder struct {
	port safejs.Value
	wake chan struct{}
	seen atomic.Uint64 // eventTurns when yield last returned
}

// eventTurns counts the messages from the event loop that Go has handled during training (a sum
// from another worker, training images from the page): each came in a turn of the event loop.
var eventTurns atomic.Uint64

func newYielder() (*yielder, error) {
	class, err := safejs.Global().Get("MessageChannel")
	if err != nil {
		return nil, err
	}
	channel, err := class.New()
	if err != nil {
		return nil, fmt.Errorf("MessageChannel: %v", err)
	}
	y := &yielder{wake: make(chan struct{}, 64)}
	// One Func for the program's life: never released.
	onMessage, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		select { // never block a handler; the buffer holds more wake-ups than there are waiters
		case y.wake <- struct{}{}:
		default:
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	port1, err := channel.Get("port1")
	if err != nil {
		return nil, err
	}
	if err := port1.Set("onmessage", onMessage); err != nil {
		return nil, err
	}
	if y.port, err = channel.Get("port2"); err != nil {
		return nil, err
	}
	return y, nil
}

// yield returns after the JS event loop has run the tasks queued so far, or at once if it has
// had a turn since the last yield.
func (y *yielder) yield() {
	if t := eventTurns.Load(); y.seen.Swap(t) != t {
		return
	}
	if _, err := y.port.Call("postMessage", nil); err != nil {
		logError("yield: " + err.Error())
		return
	}
	<-y.wake
	y.seen.Store(eventTurns.Load())
}
