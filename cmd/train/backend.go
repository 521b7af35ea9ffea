package main

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/mnist-trainer/mnist/model"
)

// newBackend returns the backend named by spec: "go" for simplego, "xla:..." for XLA (see
// xlaBackend). With several workers, simplego runs each replica's ops on its own goroutine.
func newBackend(spec string, workers int) (backends.Backend, error) {
	switch {
	case spec == "go" && workers > 1:
		return model.GoBackendPerCore()
	case spec == "go":
		return model.GoBackend()
	case spec == "xla" || strings.HasPrefix(spec, "xla:"):
		return xlaBackend(strings.TrimPrefix(strings.TrimPrefix(spec, "xla"), ":"))
	default:
		return nil, fmt.Errorf(`-backend %q: use "go", "xla:cpu", "xla:cuda" or "xla:/path/to/pjrt_plugin.so"`, spec)
	}
}
