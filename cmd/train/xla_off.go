//go:build !xla

package main

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
)

// xlaBackend explains how to get XLA: it needs cgo, so it is only linked in with the xla build tag.
func xlaBackend(string) (backends.Backend, error) {
	return nil, fmt.Errorf("this binary was built without XLA; rebuild with the xla tag (needs cgo): " +
		"make train-xla BACKEND=xla:cuda, or go run -tags xla ./cmd/train -backend xla:cuda")
}
