//go:build js && wasm

package main

// This file holds inspect: the kernels and feature maps of a model the page has stored, loaded
// beside the current one, which it never replaces.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/model"
)

// inspectModels is how many models inspect keeps loaded. The page compares a few stored runs side
// by side and asks again for each one whenever another image is picked: parsing a file once per
// run, not once per request, keeps that quick, and four bound what they hold (weights, and a
// compiled feature-map graph each) to what a comparison needs.
const inspectModels = 4

// inspectCache holds the models inspect loaded, by the page's key, most recently used first.
type inspectCache struct {
	mu      sync.Mutex
	entries []inspected
}

type inspected struct {
	key string
	m   *model.Model
}

// get returns the model of key, now the most recently used, or nil.
func (c *inspectCache) get(key string) *model.Model {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e.m
		}
	}
	return nil
}

// put makes m the model of key, the most recently used, dropping the least recently used model
// beyond inspectModels.
func (c *inspectCache) put(key string, m *model.Model) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			break
		}
	}
	c.entries = append([]inspected{{key, m}}, c.entries...)
	if len(c.entries) > inspectModels {
		c.entries[inspectModels] = inspected{} // let the dropped model be collected
		c.entries = c.entries[:inspectModels]
	}
}

// jsInspect answers inspect({key, weights}, source) with the kernels and the feature maps of source
// (featureMaps' argument) of the model in the weights file weights, loaded as importWeights loads
// one but kept aside, by key. A key names one file: once it is loaded, weights may be null, and
// is not read if sent. The model is one of its own, so this neither waits for nor touches a run.
func (t *trainer) jsInspect(args []safejs.Value) (any, error) {
	req := arg(args, 0)
	keyValue, err := req.Get("key")
	if err != nil || keyValue.Type() != safejs.TypeString {
		return nil, errors.New("inspect: expected {key: string, weights: Uint8Array}")
	}
	key, _ := keyValue.String()
	m := t.inspected.get(key)
	if m == nil {
		w, err := req.Get("weights")
		if err != nil || w.IsUndefined() || w.IsNull() {
			return nil, coded(codeNoModel, "", fmt.Errorf("inspect: no model for key %q; send its weights", key))
		}
		data, err := readWeights(w, "inspect")
		if err != nil {
			return nil, err
		}
		if m, err = t.loadWeights(data); err != nil {
			return nil, err
		}
		t.inspected.put(key, m)
	}
	kernels, err := kernelImages(m)
	if err != nil {
		return nil, err
	}
	maps, err := t.featureMaps(m, arg(args, 1))
	if err != nil {
		return nil, err
	}
	return struct {
		Kernels  []kernelLayer `json:"kernels"`
		Features *features     `json:"features"`
	}{kernels, maps}, nil
}
