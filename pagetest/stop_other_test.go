//go:build !linux

package pagetest

import "os/exec"

// stopWithTest does nothing here: only Linux kills a child when its parent dies.
func stopWithTest(*exec.Cmd) {}
