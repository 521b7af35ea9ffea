package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/mnist-trainer/mnist/model"
)

// unknownMemoryLimit is the limit where the machine's memory cannot be read (not Linux): a
// generous bound, against a typo that would make a run allocate without end, not a machine's size.
const unknownMemoryLimit = 64_000_000_000

// memoryEstimate is model.Config.ReplicaMemoryEstimate for this run's workers. It is simplego's:
// XLA convolves without im2col and plans its own memory, on its device.
func (m *Main) memoryEstimate() model.MemoryEstimate {
	return m.Config.ReplicaMemoryEstimate(m.Workers)
}

// checkMemory refuses, on the pure-Go backend, a run whose estimate is more than the machine's
// memory (m.MemoryLimit, or the physical memory): natively there is no 4 GB cap as in a
// browser tab, so the command trains what the page refuses, as long as the machine can hold it.
func (m *Main) checkMemory() error {
	if m.Backend != "go" {
		return nil
	}
	limit, room := m.MemoryLimit, "allowed here"
	if limit == 0 {
		limit, room = physicalMemory(), "of this machine's memory"
		if limit == 0 {
			limit, room = unknownMemoryLimit, "this command allows where it cannot read the machine's memory"
		}
	}
	return m.memoryEstimate().Check(limit, room)
}

// physicalMemory returns the machine's memory in bytes, from /proc/meminfo; 0 where it cannot.
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// "MemTotal:       24453332 kB"
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// memoryLine is the run's estimate for the first lines of the output.
func (m *Main) memoryLine() string {
	line := "Memory: " + m.memoryEstimate().String()
	if m.Backend != "go" {
		line += " (estimated for the pure-Go backend; XLA plans its own)"
	}
	return line
}
