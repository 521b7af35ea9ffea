package pagetest

import (
	"os/exec"
	"syscall"
)

// stopWithTest has the kernel kill the command if this test binary dies first (a test timeout
// ends it without cleanups), as chromedp does for Chromium, so that no server outlives the tests.
func stopWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
