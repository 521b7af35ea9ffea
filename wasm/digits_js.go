//go:build js && wasm

package main

// This file holds the calls of My digits, a student's own digits (web/mydigits.js; the logic is
// session/digits.go): testing the current model on them, and their files both ways. The page keeps
// the digits (IndexedDB) and sends them with each call: the worker holds none between calls, and a
// training run gets them in train's options (digitsOption), the same on every worker.

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/session"
)

// digitsFrom reads a set of My digits, {images: Uint8Array (784 bytes each), labels: Uint8Array},
// and checks it as training would (session.Digits).
func digitsFrom(v safejs.Value, what string) (*mnist.Dataset, error) {
	if v.Type() != safejs.TypeObject {
		return nil, session.Coded(session.CodeInvalidDigits, "", fmt.Errorf("%s: expected {images, labels}", what))
	}
	field := func(key string) ([]byte, error) {
		f, err := v.Get(key)
		if err != nil {
			return nil, err
		}
		return bytesFromJS(f, what+"."+key)
	}
	images, err := field("images")
	if err != nil {
		return nil, session.Coded(session.CodeInvalidDigits, "", err)
	}
	labels, err := field("labels")
	if err != nil {
		return nil, session.Coded(session.CodeInvalidDigits, "", err)
	}
	return session.Digits(images, labels, what)
}

// digitsOption reads train's digits option: My digits to evaluate after each epoch, and to mix in
// as the configuration's mix-digits says. None (nil) when the page has none.
func digitsOption(opts safejs.Value) (*mnist.Dataset, error) {
	if !hasField(opts, "digits") {
		return nil, nil
	}
	v, _ := opts.Get("digits")
	if v.IsNull() {
		return nil, nil
	}
	return digitsFrom(v, "digits")
}

// jsEvaluateDigits tests the current model on My digits, {images, labels}
// (session.Session.EvaluateDigits).
func (t *trainer) jsEvaluateDigits(args []safejs.Value) (any, error) {
	d, err := digitsFrom(arg(args, 0), "evaluateDigits")
	if err != nil {
		return nil, err
	}
	return t.s.EvaluateDigits(d)
}

// jsExportDigits writes My digits, {images, labels}, as the two gzipped IDX files MNIST comes in:
// {files: [{name, data: Uint8Array}, …]}, the images first.
func (t *trainer) jsExportDigits(args []safejs.Value) (any, error) {
	d, err := digitsFrom(arg(args, 0), "exportDigits")
	if err != nil {
		return nil, err
	}
	idx, err := session.ExportDigits(d)
	if err != nil {
		return nil, err
	}
	files, err := safejs.ValueOf([]any{})
	if err != nil {
		return nil, err
	}
	for i, f := range idx {
		data, err := bytesToJS(f.Data)
		if err != nil {
			return nil, err
		}
		file, err := plainObject(map[string]any{"name": f.Name, "data": data})
		if err == nil {
			err = files.SetIndex(i, file)
		}
		if err != nil {
			return nil, err
		}
	}
	return plainObject(map[string]any{"files": files})
}

// jsImportDigits reads the two files of a set of digits, [{name, data: Uint8Array}, …] (the
// images file and its labels file, in either order), as mnist.LoadIDXPair does: a bad pair fails
// with its message, which names the file at fault. It answers {images, labels, count}.
func (t *trainer) jsImportDigits(args []safejs.Value) (any, error) {
	list := arg(args, 0)
	n, err := list.Length()
	if err != nil {
		return nil, session.Coded(session.CodeInvalidDigits, "", errors.New("importDigits: expected a list of files"))
	}
	if err := session.CheckDigitFiles(n); err != nil {
		return nil, err
	}
	files := make([]mnist.IDXFile, n)
	for i := range files {
		f, err := list.Index(i)
		if err != nil {
			return nil, err
		}
		name, _ := f.Get("name")
		if files[i].Name, err = name.String(); err != nil {
			return nil, errors.New("importDigits: each file needs its name")
		}
		data, _ := f.Get("data")
		if files[i].Data, err = bytesFromJS(data, files[i].Name); err != nil {
			return nil, err
		}
	}
	d, err := session.ImportDigits(files)
	if err != nil {
		return nil, err
	}
	images, err := bytesToJS(d.Images)
	if err != nil {
		return nil, err
	}
	labels, err := bytesToJS(d.Labels)
	if err != nil {
		return nil, err
	}
	return plainObject(map[string]any{"images": images, "labels": labels, "count": d.Len()})
}

// plainObject makes a plain JS object of fields whose values may be JS values: Uint8Arrays stay
// Uint8Arrays, which toJS's JSON would turn into text.
func plainObject(fields map[string]any) (safejs.Value, error) {
	obj, err := safejs.ValueOf(map[string]any{})
	if err != nil {
		return safejs.Value{}, err
	}
	for k, v := range fields {
		if err := obj.Set(k, v); err != nil {
			return safejs.Value{}, err
		}
	}
	return obj, nil
}
