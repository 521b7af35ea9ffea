package main

import (
	"io"
	"strings"
	"testing"
)

// FuzzConfigFlags feeds arbitrary argument lists to ParseFlags. The fuzz
// string is split into arguments at newlines, so an argument may hold
// spaces, commas or nothing at all. ParseFlags must never panic, and when it
// succeeds the configuration must be valid.
func FuzzConfigFlags(f *testing.F) {
	for _, args := range [][]string{
		{},
		{"-epochs", "1"},
		{"-preset", "half-filters", "-epochs", "1", "-batch", "128", "-out", "half.safetensors"},
		{"-kernel", "5", "-preset", "kernel-4"},
		{"--filters=16, 32, 64", "-dense", "64,64", "-lr", "1e-3", "-seed", "-3"},
		{"-train-images", "512", "-loss-images", "256", "-batch", "32", "-test-images", "100"},
		{"-filters", "512,512,512", "-dense", "4096,4096", "-kernel", "7", "-stride", "1"},
		{"-filters", "1000000,1,1"},
		{"-epochs", "-1"}, {"-epochs", "ten"}, {"-lr", "NaN"}, {"-lr", "Inf"}, {"-epsilon", "0"},
		{"-train-images", "10", "-batch", "64"}, {"-test-images", "-1"},
		{"-preset", "huge"}, {"-preset", ""}, {"-preset"}, {"-epochs"},
		{"-h"}, {"-help"}, {"--"}, {"-", "x"}, {"extra"}, {"-epochs", "1", "extra"},
		{"-nope", "1"}, {"-filters=1,2"}, {"-backend", "xla:cuda"}, {"-data", ""},
	} {
		f.Add(strings.Join(args, "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\n")
		}
		m := NewMain()
		m.Stdout, m.Stderr = io.Discard, io.Discard
		if err := m.ParseFlags(args); err != nil {
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Fatalf("ParseFlags(%q) accepted an invalid configuration: %v", args, err)
		}
		if m.TestImages < 0 {
			t.Fatalf("ParseFlags(%q) accepted -test-images %d", args, m.TestImages)
		}
	})
}
