package pagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBrowserSameBitsAnyTeam runs the page's quick run (its button, then Train) with teams of 1,
// 2 and 3 workers, and checks that a student sees the same run whatever the team: the same loss at
// every step and after the epoch, the same status line (test accuracy), the same classification
// report, and the same weights, compared by the SHA-256 of the file Export weights saves. Three
// workers take the batch's 4 virtual shards unevenly (1, 1 and 2).
func TestBrowserSameBitsAnyTeam(t *testing.T) {
	type result struct {
		chart  chartData
		status string
		report []string
		sha256 string
	}
	p := openBrowser(t)
	var first result
	for _, workers := range []int{1, 2, 3} {
		p.open(t, fmt.Sprintf("?workers=%d", workers))
		took := p.quickRun(t, 6*time.Minute)
		var r result
		r.chart = eval[chartData](t, p, `window.__mnist.chart`)
		r.status = p.text(t, "#status")
		r.report = eval[[]string](t, p, `[...document.querySelectorAll('#report tbody tr')].map((tr) => tr.textContent)`)
		_, data := p.exportWeights(t)
		sum := sha256.Sum256(data)
		r.sha256 = hex.EncodeToString(sum[:])
		if n := eval[int](t, p, `window.__mnist.workers`); n != workers {
			t.Fatalf("the page runs %d workers, want %d", n, workers)
		}
		steps := eval[int](t, p, `window.__mnist.quick['train-images'] / window.__mnist.quick.batch`)
		if len(r.chart.Loss) != steps || len(r.chart.Epochs) != 1 || len(r.report) == 0 {
			t.Fatalf("%d workers: %d steps, %d epochs, %d report rows; want %d, 1 and some", workers, len(r.chart.Loss), len(r.chart.Epochs), len(r.report), steps)
		}
		// The status also says how long the run took, which differs; the rest must not.
		_, accuracy, _ := strings.Cut(r.status, "Test accuracy")
		t.Logf("%d workers: %.1f s, final step loss %v, loss after the epoch %v, test accuracy%s, weights SHA-256 %s",
			workers, took.Seconds(), r.chart.Loss[len(r.chart.Loss)-1], r.chart.Epochs[0].Loss, accuracy, r.sha256)
		if workers == 1 {
			first = r
			continue
		}
		_, firstAccuracy, _ := strings.Cut(first.status, "Test accuracy")
		if accuracy == "" || accuracy != firstAccuracy {
			t.Errorf("%d workers: status %q; 1 worker %q", workers, r.status, first.status)
		}
		for i, l := range r.chart.Loss {
			if l != first.chart.Loss[i] {
				t.Errorf("%d workers: step %d's loss %v; 1 worker %v", workers, i+1, l, first.chart.Loss[i])
				break
			}
		}
		if r.chart.Epochs[0].Loss != first.chart.Epochs[0].Loss {
			t.Errorf("%d workers: loss after the epoch %v; 1 worker %v", workers, r.chart.Epochs[0].Loss, first.chart.Epochs[0].Loss)
		}
		if !slices.Equal(r.report, first.report) {
			t.Errorf("%d workers: the report differs from 1 worker's:\n%q\n%q", workers, r.report, first.report)
		}
		if r.sha256 != first.sha256 {
			t.Errorf("%d workers: weights SHA-256 %s; 1 worker %s", workers, r.sha256, first.sha256)
		}
	}
}
