//go:build js && wasm

package main

// Run under Node: GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/model"
	"github.com/mnist-trainer/mnist/session"
)

// jsNew returns new globalThis[class](args...).
func jsNew(tb testing.TB, class string, args ...any) safejs.Value {
	tb.Helper()
	c, err := safejs.Global().Get(class)
	if err == nil {
		var v safejs.Value
		if v, err = c.New(args...); err == nil {
			return v
		}
	}
	tb.Fatalf("new %s: %v", class, err)
	return safejs.Value{}
}

// jsObject makes a plain JS object of fields.
func jsObject(tb testing.TB, fields map[string]any) safejs.Value {
	tb.Helper()
	obj := jsNew(tb, "Object")
	for k, v := range fields {
		if err := obj.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	return obj
}

// jsNumbers converts ints to JS arguments.
func jsNumbers(tb testing.TB, ns ...int) []safejs.Value {
	tb.Helper()
	out := make([]safejs.Value, len(ns))
	for i, n := range ns {
		v, err := safejs.ValueOf(n)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = v
	}
	return out
}

// TestErrorCodes: every error the page branches on reaches it through the adapters with its code,
// and the setting at fault with its key, read from the error's type (protocol.md, "Errors"). The
// session's own tests (session/errors_test.go) cover the codes of its states natively: a run in
// progress, an aborted run, a diverged one.
func TestErrorCodes(t *testing.T) {
	tr, err := newTrainer(func() {})
	if err != nil {
		t.Fatal(err)
	}
	weights, err := tr.jsExportWeights(nil)
	if err != nil {
		t.Fatal(err)
	}
	weightsJS, err := toJS(weights)
	if err != nil {
		t.Fatal(err)
	}
	tooLarge := func() error {
		cfg := model.DefaultConfig()
		cfg.Filters, cfg.KernelSize, cfg.Stride = [3]int{512, 512, 512}, 7, 1
		return cfg.CheckMemory(model.BrowserMemoryLimit, session.BrowserRoom)
	}
	str := func(s string) safejs.Value {
		v, err := safejs.ValueOf(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	second := func(_ any, err error) error { return err }
	for _, c := range []struct {
		name      string
		err       error
		code, key string
	}{
		{"a value that is not a number", second(tr.jsConfigure([]safejs.Value{str("epochs=ten")})), session.CodeInvalidSetting, "epochs"},
		{"a value out of range", second(tr.jsDescribe([]safejs.Value{jsObject(t, map[string]any{"batch": 0})})), session.CodeInvalidSetting, "batch"},
		{"an unknown preset", second(tr.jsConfigure([]safejs.Value{str("?preset=huge")})), session.CodeInvalidSetting, "preset"},
		{"a network too large", tooLarge(), session.CodeMemory, "filters"},
		{"a locked setting", second(tr.jsImportWeights([]safejs.Value{weightsJS,
			jsObject(t, map[string]any{"locked": jsObject(t, map[string]any{"filters": "16,32,64"})})})), session.CodeLocked, "filters"},
		{"a diverged run", fmt.Errorf("%w. The model is back to the one from before this run", model.ErrDiverged), session.CodeDiverged, "lr"},
		{"evaluate before the data", second(tr.jsEvaluate(nil)), session.CodeNotLoaded, ""},
		{"pause with no run", second(tr.jsPause(nil)), session.CodeNoRun, ""},
		{"stop with no run", second(tr.jsStop(nil)), session.CodeNoRun, ""},
		{"cellDigits before an evaluation", second(tr.jsCellDigits(jsNumbers(t, 3, 5, 60))), session.CodeNoEvaluation, ""},
		{"inspect of a key not loaded", second(tr.jsInspect([]safejs.Value{jsObject(t, map[string]any{"key": "run-1", "weights": nil})})), session.CodeNoModel, ""},
		{"a weights file that is not one", second(tr.jsImportWeights([]safejs.Value{jsNew(t, "Uint8Array", 8)})), session.CodeInvalidWeights, ""},
		{"a weights file too large", second(readWeights(jsObject(t, map[string]any{"length": 1 << 30}), "importWeights")), session.CodeInvalidWeights, ""},
		{"digits that are not a set", second(tr.jsEvaluateDigits([]safejs.Value{jsObject(t, map[string]any{
			"images": jsNew(t, "Uint8Array", 100), "labels": jsNew(t, "Uint8Array", 1)})})), session.CodeInvalidDigits, ""},
		{"one digits file", second(tr.jsImportDigits([]safejs.Value{jsNew(t, "Array", 1)})), session.CodeInvalidDigits, ""},
		{"a recovered panic", session.Coded(session.CodeInternal, "", errors.New("predict: internal error: boom")), session.CodeInternal, ""},
		{"anything else", second(tr.jsJoin([]safejs.Value{jsObject(t, map[string]any{"index": 3, "count": 2})})), session.CodeFailed, ""},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		// The JS Error carries them, and the message unchanged.
		e := jsError(c.err)
		msg, _ := e.Get("message")
		jsCode, _ := e.Get("code")
		jsKey, _ := e.Get("key")
		if s, _ := msg.String(); s != c.err.Error() {
			t.Errorf("%s: error.message %q, want %q", c.name, s, c.err.Error())
		}
		if s, _ := jsCode.String(); s != c.code {
			t.Errorf("%s (%v): error.code %q, want %q", c.name, c.err, s, c.code)
		}
		if c.key == "" && !jsKey.IsUndefined() {
			t.Errorf("%s: error.key is set, want none", c.name)
		} else if s, _ := jsKey.String(); c.key != "" && s != c.key {
			t.Errorf("%s: error.key %q, want %q", c.name, s, c.key)
		}
	}
}

// TestPanicRejectsAsInternal: a panic in an API function rejects its Promise with code
// "internal", and the program goes on.
func TestPanicRejectsAsInternal(t *testing.T) {
	p := asyncFunc("predict", func([]safejs.Value) (any, error) { panic("boom") })(safejs.Undefined(), nil)
	promise, ok := p.(safejs.Value)
	if !ok {
		t.Fatalf("asyncFunc returned %T, want a Promise", p)
	}
	rejected := make(chan safejs.Value, 1)
	onReject, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		rejected <- args[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer onReject.Release()
	if _, err := promise.Call("catch", onReject); err != nil {
		t.Fatal(err)
	}
	e := <-rejected
	code, _ := e.Get("code")
	msg, _ := e.Get("message")
	if s, _ := code.String(); s != session.CodeInternal {
		m, _ := msg.String()
		t.Errorf("the Promise rejected with code %q (%s), want %q", s, m, session.CodeInternal)
	}
}

// TestYieldAfterTurns: yield gives the event loop turns (a message queued before it is handled,
// if not at once: Node, unlike the browsers, handles up to a thousand messages of one
// MessagePort, the yield's, before another's), unless Go has handled a message from the event
// loop since the last yield.
func TestYieldAfterTurns(t *testing.T) {
	y, err := newYielder()
	if err != nil {
		t.Fatal(err)
	}
	channel := jsNew(t, "MessageChannel")
	in, _ := channel.Get("port1")
	out, _ := channel.Get("port2")
	handled := 0
	fn, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		handled++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Release()
	if err := in.Set("onmessage", fn); err != nil {
		t.Fatal(err)
	}
	defer in.Call("close")
	y.yield() // the first since the turns counted so far
	if _, err := out.Call("postMessage", 0); err != nil {
		t.Fatal(err)
	}
	eventTurns.Add(1) // as a sum from another worker does
	y.yield()
	if handled != 0 {
		t.Fatalf("a yield right after a turn of the event loop gave it another: %d handled", handled)
	}
	yields := 0
	for ; yields < 5000 && handled == 0; yields++ {
		y.yield()
	}
	if handled != 1 {
		t.Fatalf("%d yields did not give the event loop a turn: %d handled, want 1", yields, handled)
	}
	t.Logf("handled after %d yields", yields)
}
