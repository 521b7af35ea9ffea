//go:build xla

package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// installTimeout bounds XLA's plugin auto-installer, which downloads from GitHub and PyPI with
// http.DefaultClient: on a network that drops packets it would otherwise wait forever.
const installTimeout = 10 * time.Minute

// xlaBackend starts XLA with the plugin named by plugin: "cpu", "cuda", an absolute path to a PJRT
// plugin, or "" for the first one found. GOMLX_NO_AUTO_INSTALL=1 disables the download of missing
// plugins (GoMLX reads it itself); then a missing plugin fails at once.
func xlaBackend(plugin string) (backends.Backend, error) {
	if t, ok := http.DefaultTransport.(*http.Transport); ok && t.ResponseHeaderTimeout == 0 {
		t.ResponseHeaderTimeout = time.Minute
	}
	if _, noInstall := os.LookupEnv(xla.NoAutoInstallEnv); !noInstall {
		fmt.Fprintf(os.Stderr, "Looking for the XLA PJRT plugin %q, installing it if missing (set %s=1 to skip)...\n",
			plugin, xla.NoAutoInstallEnv)
	}
	type result struct {
		b   backends.Backend
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := xla.New(plugin)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("XLA backend %q: %v\n%s", plugin, r.err, pluginHelp)
		}
		return r.b, nil
	case <-time.After(installTimeout):
		return nil, fmt.Errorf("XLA backend %q: no plugin after %s (is the network down?)\n%s", plugin, installTimeout, pluginHelp)
	}
}

const pluginHelp = `To use XLA, install a PJRT plugin:
  - CPU or CUDA, automatically: run once with network access and without GOMLX_NO_AUTO_INSTALL;
  - or by hand: put pjrt_c_api_cpu_plugin.so / pjrt_c_api_cuda_plugin.so in ~/.local/lib/go-xla or
    /usr/local/lib/go-xla, or point PJRT_PLUGIN_LIBRARY_PATH at their folder;
  - or give its path: -backend xla:/abs/path/to/pjrt_plugin.so (e.g. JAX's
    jax_plugins/xla_cuda13/xla_cuda_plugin.so).`
