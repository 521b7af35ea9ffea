//go:build js && wasm

package main

// Run under Node: GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
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

// TestErrorCodes: every error the page branches on reaches it with its code, and the setting at
// fault with its key, read from the error's type (protocol.md, "Errors").
func TestErrorCodes(t *testing.T) {
	backend, err := model.GoBackend()
	if err != nil {
		t.Fatal(err)
	}
	fromQuery := func(q string) error {
		v, _ := url.ParseQuery(q)
		_, err := model.FromQuery(v)
		return err
	}
	tooLarge := func() error {
		cfg := model.DefaultConfig()
		cfg.Filters, cfg.KernelSize, cfg.Stride = [3]int{512, 512, 512}, 7, 1
		return cfg.CheckMemory(model.BrowserMemoryLimit, browserRoom)
	}
	loaded := &trainer{train: &mnist.Dataset{}, test: &mnist.Dataset{}}
	training := &trainer{train: &mnist.Dataset{}, test: &mnist.Dataset{}, run: newRun(1, func(error) {})}
	aborted := &trainer{train: &mnist.Dataset{}}
	if _, err := aborted.jsAbort([]safejs.Value{jsObject(t, map[string]any{"run": 3, "error": "worker 2 of 2 failed"})}); err != nil {
		t.Fatal(err)
	}
	second := func(_ any, err error) error { return err }
	for _, c := range []struct {
		name      string
		err       error
		code, key string
	}{
		{"a value that is not a number", fromQuery("epochs=ten"), codeInvalidSetting, "epochs"},
		{"a value out of range", fromQuery("batch=0"), codeInvalidSetting, "batch"},
		{"an unknown preset", fromQuery("preset=huge"), codeInvalidSetting, "preset"},
		{"test-images out of range", second(checkTestImages(20000, &mnist.Dataset{})), codeInvalidSetting, "test-images"},
		{"a network too large", tooLarge(), codeMemory, "filters"},
		{"a locked setting", checkLocked(model.DefaultConfig(), jsObject(t, map[string]any{"locked": jsObject(t, map[string]any{"filters": "16,32,64"})})), codeLocked, "filters"},
		{"a diverged run", fmt.Errorf("%w. The model is back to the one from before this run", model.ErrDiverged), codeDiverged, "lr"},
		{"an aborted run", aborted.canStart(2), codeAborted, ""},
		{"train during a run", training.canStart(2), codeBusy, ""},
		{"evaluate during a run", second(training.jsEvaluate(nil)), codeBusy, ""},
		{"import during a run", second(training.jsImportWeights([]safejs.Value{jsNew(t, "Uint8Array", 8)})), codeBusy, ""},
		{"train before the data", (&trainer{}).canStart(1), codeNotLoaded, ""},
		{"pause with no run", second((&trainer{}).jsPause(nil)), codeNoRun, ""},
		{"stop with no run", second((&trainer{}).jsStop(nil)), codeNoRun, ""},
		{"cellDigits before an evaluation", second(loaded.jsCellDigits(jsNumbers(t, 3, 5, 60))), codeNoEvaluation, ""},
		{"inspect of a key not loaded", second(loaded.jsInspect([]safejs.Value{jsObject(t, map[string]any{"key": "run-1", "weights": nil})})), codeNoModel, ""},
		{"a weights file that is not one", second((&trainer{backend: backend}).loadWeights([]byte("not safetensors"))), codeInvalidWeights, ""},
		{"a weights file too large", second(readWeights(jsObject(t, map[string]any{"length": 1 << 30}), "importWeights")), codeInvalidWeights, ""},
		{"a recovered panic", coded(codeInternal, "", errors.New("predict: internal error: boom")), codeInternal, ""},
		{"anything else", errors.New("join: worker 3 of 2 does not exist"), codeFailed, ""},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		code, key := errorCode(c.err)
		if code != c.code || key != c.key {
			t.Errorf("%s (%v): code %q, key %q; want %q, %q", c.name, c.err, code, key, c.code, c.key)
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
			t.Errorf("%s: error.code %q, want %q", c.name, s, c.code)
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
	if s, _ := code.String(); s != codeInternal {
		m, _ := msg.String()
		t.Errorf("the Promise rejected with code %q (%s), want %q", s, m, codeInternal)
	}
}
