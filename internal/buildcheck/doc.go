// Package buildcheck holds tests of the repository's build itself: that the Makefile's targets do
// what the README promises on a fresh machine, from a plain shell, whatever Go and GNU Make the
// reader has. It has no code of its own.
package buildcheck
