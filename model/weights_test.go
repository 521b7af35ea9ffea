package model

import (
	"bytes"
	"testing"
)

// TestMaxWeightsFileSize: the bound holds for every preset's file and for the largest valid
// network, and is small enough to refuse a film picked by mistake (hundreds of MB, not GB).
func TestMaxWeightsFileSize(t *testing.T) {
	limit := MaxWeightsFileSize()
	t.Logf("MaxWeightsFileSize: %d bytes (%d parameters at most)", limit, maxParams())
	if err := largestConfig().Validate(); err != nil {
		t.Fatalf("largestConfig is not valid: %v", err)
	}
	if limit < 4*maxParams() || limit > 1<<30 {
		t.Fatalf("MaxWeightsFileSize %d for %d parameters", limit, maxParams())
	}
	for _, p := range Presets() {
		var buf bytes.Buffer
		if err := newTestModel(t, p.Config).Save(&buf); err != nil {
			t.Fatal(err)
		}
		// The header is what varies with the configuration: the data is 4 bytes a parameter.
		if header := buf.Len() - 4*p.Config.NumParams(); buf.Len() > limit || header > stMaxHeaderLen+8 {
			t.Errorf("preset %s: a %d-byte file with a %d-byte header, over the bound %d", p.Name, buf.Len(), header, limit)
		}
	}
}
