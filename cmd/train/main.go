// Command train trains the course notebook's MNIST network natively, headless, and prints what
// the notebook prints: the training loss after each epoch and the classification report on the
// 10,000 test images. It saves the weights in the same file format the browser trainer exports
// and imports.
//
//	go run ./cmd/train -epochs 1                      # pure-Go backend (simplego)
//	go run -tags xla ./cmd/train -backend xla:cuda    # XLA on a GPU (needs cgo and a PJRT plugin)
//
// Every hyper-parameter of model.Config is a flag; -preset picks one of the notebook's experiments
// first. Run with -h for the list.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	m.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}
