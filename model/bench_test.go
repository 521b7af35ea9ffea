package model

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
)

// benchConv lets one benchmark binary compare the conv formulations in alternating runs:
// BENCH_CONV=winograd or BENCH_CONV=im2col sets winogradOn for BenchmarkTrainStep; unset keeps
// the default.
func benchConv(b *testing.B) {
	switch v := os.Getenv("BENCH_CONV"); v {
	case "":
	case "winograd", "im2col":
		was := winogradOn
		winogradOn = v == "winograd"
		b.Cleanup(func() { winogradOn = was })
	default:
		b.Fatalf("BENCH_CONV=%q: want winograd or im2col", v)
	}
}

func memStats() runtime.MemStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// reportMemory reports what the steps since before allocated, how often Go collected, and the heap
// in use at the end (with simplego's buffer pools, when nothing collected them): on a shared
// machine, where wall time varies from run to run, these vary little, and in a browser worker,
// whose heap runs near its limit (GOMEMLIMIT here), every collection empties those pools.
func reportMemory(b *testing.B, before runtime.MemStats) {
	after := memStats()
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6/float64(b.N), "alloc-MB/step")
	b.ReportMetric(float64(after.NumGC-before.NumGC)/float64(b.N), "GCs/step")
	b.ReportMetric(float64(after.HeapInuse)/1e6, "heap-inuse-MB")
}

// BenchmarkTrainStep measures steady-state training steps at the default batch size; images/s
// is reported as a custom metric.
func BenchmarkTrainStep(b *testing.B) {
	benchConv(b)
	train, _ := mnisttest.Sets(b)
	m := newTestModel(b, DefaultConfig())
	batch := m.cfg.BatchSize
	images, labels := testBatch(train, batch)
	benchSteps(b, m, nil, images, labels, batch, "images/s")
}

// BenchmarkShardStep measures the work of one shard of two on a default-size batch: shard 0's
// half of the images, with a Reduce that combines its own vector twice, as if the other shard had sent
// the same. Against BenchmarkTrainStep it shows what sharding costs beyond the halved batch.
func BenchmarkShardStep(b *testing.B) {
	train, _ := mnisttest.Sets(b)
	m := newTestModel(b, DefaultConfig())
	batch := m.cfg.BatchSize
	images, labels := testBatch(train, batch/2)
	benchSteps(b, m, echoShard(), images, labels, batch, "batch-images/s")
}

// echoShard is shard 0 of two whose Reduce combines its own vector twice, as if the other shard
// had sent the same.
func echoShard() *Shard {
	return &Shard{Index: 0, Count: 2, Start: func(v []float32, combine Combine) func() ([]float32, error) {
		return func() ([]float32, error) { return combine(slices.Repeat([][]float32{v}, 2)) }
	}}
}

// benchSteps compiles m's training step on images and labels (shard s's part of a batch of
// batch images), then times it, reporting batch·N/elapsed as metric, and the memory and CPU time
// per step.
func benchSteps(b *testing.B, m *Model, s *Shard, images []byte, labels []int32, batch int, metric string) {
	if _, err := m.lockedTrainStep(s, images, labels, batch); err != nil { // compile
		b.Fatal(err)
	}
	cpu0, mem0 := cpuTime(), memStats()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.lockedTrainStep(s, images, labels, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportMemory(b, mem0)
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), metric)
	// CPU time per step is steadier than wall time on a shared machine, and shows parallel overhead.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/step")
}

// BenchmarkTrainStepConvs compares the two formulations of the 3×3, stride-1 convolutions
// (im2col and Winograd) on a team of one, in one process, step for step in turn, so that a shared
// machine's changing load falls on both alike. It reports the median images/s of each.
func BenchmarkTrainStepConvs(b *testing.B) { benchConvs(b, false) }

// BenchmarkShardStepConvs is BenchmarkTrainStepConvs for BenchmarkShardStep's worker: one of two,
// on half of a default-size batch (the browser's default team on 2 cores), in batch-images/s.
func BenchmarkShardStepConvs(b *testing.B) { benchConvs(b, true) }

func benchConvs(b *testing.B, shard bool) {
	train, _ := mnisttest.Sets(b)
	cfg := DefaultConfig()
	batch, n := cfg.BatchSize, cfg.BatchSize
	var s *Shard
	if shard {
		n, s = batch/2, echoShard()
	}
	images, labels := testBatch(train, n)
	// The graphs are built when a model first steps, so winogradOn is set around that step.
	var models [2]*Model
	for i, on := range []bool{false, true} {
		withWinograd(b, on, func() {
			models[i] = newTestModel(b, cfg)
			if _, err := models[i].lockedTrainStep(s, images, labels, batch); err != nil {
				b.Fatal(err)
			}
		})
	}
	var times [2][]float64
	b.ResetTimer()
	for b.Loop() {
		for i, m := range models {
			start := time.Now()
			if _, err := m.lockedTrainStep(s, images, labels, batch); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start).Seconds())
		}
	}
	for i, name := range []string{"im2col", "winograd"} {
		slices.Sort(times[i])
		b.ReportMetric(float64(batch)/times[i][len(times[i])/2], name+"-images/s")
	}
}
