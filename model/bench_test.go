package model

import (
	"testing"
)

// BenchmarkTrainStep measures steady-state training steps at the default batch size; images/s
// is reported as a custom metric.
func BenchmarkTrainStep(b *testing.B) {
	train, _ := loadTestData(b)
	m := newTestModel(b, DefaultConfig())
	batch := m.cfg.BatchSize
	images := train.Images[:batch*ImageSize*ImageSize]
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(train.Labels[i])
	}
	if _, err := m.lockedTrainStep(nil, images, labels, batch); err != nil { // compile
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.lockedTrainStep(nil, images, labels, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	// CPU time per step is steadier than wall time on a shared machine, and shows parallel overhead.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/step")
}
