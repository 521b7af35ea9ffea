package pagetest

// Browser tests of the runs the page keeps in IndexedDB (web/recorder.js, web/store.js) and
// compares (web/compare.js): real runs of a few hundred images in headless Chromium, against the
// real server on 127.0.0.1, with a page reload between writing and reading.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// recordRun is a short run with a curve worth comparing: 8 steps of 32 images.
const recordRun = "train-images=256&loss-images=128&epochs=1&batch=32&test-images=200"

// runRow is one entry of window.__mnist.runs: the Runs panel's list.
type runRow struct {
	ID, Name, Status string
	Accuracy         *float64
	Kept             bool
	Problem          string
	Weights          *struct {
		Bytes   int
		Problem string
	}
}

func (p *page) runs(tb testing.TB) []runRow {
	tb.Helper()
	return eval[[]runRow](tb, p, `window.__mnist.runs`)
}

// trainAndRecord presses Train and waits until the run has ended and its record is complete
// (weights kept or refused): n runs are then listed.
func (p *page) trainAndRecord(tb testing.TB, n int) runRow {
	tb.Helper()
	p.click(tb, "#train")
	p.poll(tb, 3*time.Minute, fmt.Sprintf(`!document.body.classList.contains('training') && window.__mnist.runs.length === %d &&
		window.__mnist.runs[0].status !== 'training' && window.__mnist.runs[0].weights &&
		(window.__mnist.runs[0].weights.bytes > 0 || window.__mnist.runs[0].weights.problem !== 'not kept')`, n))
	return p.runs(tb)[0]
}

// choosePreset picks a preset as a student does, and waits until the form shows its filters.
func (p *page) choosePreset(tb testing.TB, name, filters string) {
	tb.Helper()
	eval[chromedp.Void](tb, p, fmt.Sprintf(`(() => { const s = document.querySelector('#preset');
		s.value = %q; s.dispatchEvent(new Event('change')); })()`, name))
	p.poll(tb, 10*time.Second, fmt.Sprintf(`document.querySelector('#f-filters').value === %q`, filters))
}

func (p *page) runsMessage(tb testing.TB) string {
	tb.Helper()
	return p.text(tb, `[data-panel="runs"] [data-part="message"]`)
}

func sameProbabilities(a, b []float64) bool {
	if len(a) != 10 || len(b) != 10 {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-6 {
			return false
		}
	}
	return true
}

func TestBrowserRuns(t *testing.T) {
	p := openBrowser(t)
	p.open(t, "?workers=2&"+recordRun)

	// Two short runs with different presets; the drawing's probabilities after each.
	first := p.trainAndRecord(t, 1)
	firstReport := p.text(t, "#report-text")
	p.choosePreset(t, "half-filters", "16,32,64")
	second := p.trainAndRecord(t, 2)
	t.Logf("runs: %q %.3f (%d bytes of weights), %q %.3f (%d bytes)", first.Name, *first.Accuracy, first.Weights.Bytes,
		second.Name, *second.Accuracy, second.Weights.Bytes)
	if first.Accuracy == nil || second.Accuracy == nil || first.Weights.Bytes == 0 || second.Weights.Bytes >= first.Weights.Bytes {
		t.Fatalf("runs recorded as %+v and %+v: want an accuracy each, and half the filters' weights smaller", first, second)
	}
	t.Run("after a reload both runs are listed with their accuracy, and the first made current predicts as before", func(t *testing.T) {
		p.open(t, "?workers=2&"+recordRun)
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 2`)
		rows := p.runs(t)
		if rows[0].ID != second.ID || rows[1].ID != first.ID {
			t.Fatalf("listed %q, %q; want the newest first: %q, %q", rows[0].Name, rows[1].Name, second.Name, first.Name)
		}
		for i, want := range []runRow{second, first} {
			if *rows[i].Accuracy != *want.Accuracy || rows[i].Status != "finished" || !rows[i].Kept {
				t.Errorf("after the reload, %+v; want accuracy %v, finished and kept", rows[i], *want.Accuracy)
			}
		}
		shown := p.text(t, fmt.Sprintf(`[data-panel="runs"] tr[data-id=%q] .run-result`, first.ID))
		if want := fmt.Sprintf("%.1f%%", 100**first.Accuracy); !strings.HasPrefix(shown, want) {
			t.Errorf("the list shows %q for the first run, want %s", shown, want)
		}
		// Making a run current brings its weights back: evaluated again, they give the same
		// report, image by image; and on a drawing, each run predicts as it did before.
		activate := func(r runRow) []float64 {
			_, before := p.probabilities(t)
			p.click(t, fmt.Sprintf(`tr[data-id=%q] button[data-action="activate"]`, r.ID))
			p.poll(t, 20*time.Second, fmt.Sprintf(`window.__mnist.current === %q`, r.ID))
			return p.waitForPrediction(t, before)
		}
		p.drawSeven(t)
		p.waitForPrediction(t, 0)
		firstProbs := activate(first)
		secondProbs := activate(second)
		if again := activate(first); !sameProbabilities(again, firstProbs) || sameProbabilities(firstProbs, secondProbs) {
			t.Errorf("the first run predicts %v, then %v after the second (%v) was current", firstProbs, again, secondProbs)
		}
		p.click(t, "#evaluate")
		p.poll(t, 30*time.Second, `document.querySelector('#report-caption').textContent.includes('evaluated now')`)
		if got := p.text(t, "#report-text"); got != firstReport {
			t.Errorf("the first run made current and evaluated again reports\n%s\nwant, as right after it trained,\n%s", got, firstReport)
		}
		if got := eval[string](t, p, `document.querySelector('#f-filters').value`); got != "32,64,128" {
			t.Errorf("the settings show filters %q, want the first run's 32,64,128", got)
		}
		if caption := p.text(t, "#report-caption"); !strings.Contains(caption, fmt.Sprintf("%.1f%%", 100**first.Accuracy)) {
			t.Errorf("the report says %q, want the first run's accuracy", caption)
		}
		chart := eval[chartData](t, p, `window.__mnist.chart`)
		if len(chart.Steps) != 8 || len(chart.Epochs) != 1 {
			t.Errorf("the chart shows %d steps and %d epochs, want the first run's 8 and 1", len(chart.Steps), len(chart.Epochs))
		}
		// Its confusion matrix opens its digits: worker 0 evaluates it again, on the same images.
		p.click(t, `#confusion button[data-label="1"][data-predicted="1"]`)
		p.poll(t, 20*time.Second, `document.querySelectorAll('#cell-digits canvas').length > 0`)
	})

	t.Run("compare draws one curve per run, a table row per run, and their kernels and maps", func(t *testing.T) {
		p.click(t, fmt.Sprintf(`tr[data-id=%q] input.run-select`, first.ID))
		p.click(t, fmt.Sprintf(`tr[data-id=%q] input.run-select`, second.ID))
		p.click(t, `[data-panel="runs"] [data-part="compare"]`)
		p.poll(t, 30*time.Second, `window.__mnist.compare.figures === 2 && document.querySelectorAll('[data-panel="compare"] .compare-row canvas').length > 0`)
		c := eval[struct {
			Series []struct {
				Name   string
				Points int
			}
			Rows, Figures int
		}](t, p, `window.__mnist.compare`)
		t.Logf("compare: %+v", c)
		if len(c.Series) != 2 || c.Rows != 2 || c.Series[0].Points != 8 || c.Series[1].Points != 8 {
			t.Errorf("compare shows %+v; want 2 series of 8 points and 2 table rows", c)
		}
		legend := eval[[]string](t, p, `[...document.querySelectorAll('[data-panel="compare"] .u-legend .u-series th')].map((th) => th.textContent.trim())`)
		if !slices.Contains(legend, first.Name) || !slices.Contains(legend, second.Name) {
			t.Errorf("the chart's legend reads %q; want both runs' names", legend)
		}
		// One row per run with three kernels and three maps of each conv layer: 6 figures.
		figures := eval[[]int](t, p, `[...document.querySelectorAll('[data-panel="compare"] .compare-row')].map((r) => r.querySelectorAll('figure').length)`)
		if !slices.Equal(figures, []int{6, 6}) {
			t.Errorf("figures per run %v, want [6 6] (kernels and maps of conv1..3)", figures)
		}
		acc := eval[[]string](t, p, `[...document.querySelectorAll('[data-panel="compare"] [data-part="table"] tbody tr')].map((tr) => tr.cells[1].textContent)`)
		// In the list's order: the newest first.
		if want := []string{fmt.Sprintf("%.2f%%", 100**second.Accuracy), fmt.Sprintf("%.2f%%", 100**first.Accuracy)}; !slices.Equal(acc, want) {
			t.Errorf("the table's accuracies %q, want %q", acc, want)
		}
	})

	t.Run("export, delete all, import: the same runs come back", func(t *testing.T) {
		before := p.runs(t)
		p.click(t, `[data-panel="runs"] [data-part="export"]`)
		// The page says so once it has handed the file to the browser; the browser then writes it
		// (a .crdownload first), which took over 20 s on a loaded 2-core machine.
		p.poll(t, time.Minute, `document.querySelector('[data-panel="runs"] [data-part="message"]').textContent.includes('Exported 2 runs')`)
		var file string
		deadline := time.Now().Add(time.Minute)
		for file == "" {
			matches, _ := filepath.Glob(filepath.Join(p.downloads, "mnist-runs-*.json"))
			if len(matches) == 1 {
				file = matches[0]
			} else if time.Now().After(deadline) {
				t.Fatalf("no runs file downloaded (%v) a minute after the page said %q", matches, p.runsMessage(t))
			} else {
				time.Sleep(100 * time.Millisecond)
			}
		}
		info, _ := os.Stat(file)
		t.Logf("exported %s, %d bytes", filepath.Base(file), info.Size())
		// As a person does: press Delete all once it can be pressed (not while the page is busy),
		// then again when it asks "Really delete all 2?".
		clear := `document.querySelector('[data-panel="runs"] [data-part="clear"]')`
		p.poll(t, time.Minute, `!`+clear+`.disabled`)
		p.click(t, `[data-panel="runs"] [data-part="clear"]`)
		p.poll(t, 10*time.Second, clear+`.textContent.startsWith('Really')`)
		p.click(t, `[data-panel="runs"] [data-part="clear"]`)
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 0`)
		p.open(t, "?workers=2&"+recordRun)
		if n := len(p.runs(t)); n != 0 {
			t.Fatalf("after delete all and a reload, %d runs are listed", n)
		}
		p.do(t, chromedp.SetUploadFiles(chromedp.CSS("#runs-import"), []string{file}))
		p.poll(t, 20*time.Second, `window.__mnist.runs.length === 2 && document.querySelector('[data-panel="runs"] [data-part="message"]').textContent.startsWith('Imported')`)
		after := p.runs(t)
		for i := range before {
			if after[i].ID != before[i].ID || after[i].Name != before[i].Name || *after[i].Accuracy != *before[i].Accuracy ||
				after[i].Weights.Bytes != before[i].Weights.Bytes || !after[i].Kept {
				t.Errorf("imported %+v, want %+v", after[i], before[i])
			}
		}
		if msg := p.runsMessage(t); !strings.Contains(msg, "2 new runs") {
			t.Errorf("import says %q", msg)
		}
		// A file that is not a runs export changes nothing.
		bad := filepath.Join(t.TempDir(), "notes.json")
		os.WriteFile(bad, []byte(`{"hello": "world"}`), 0o644)
		p.do(t, chromedp.SetUploadFiles(chromedp.CSS("#runs-import"), []string{bad}))
		p.poll(t, 10*time.Second, `document.querySelector('[data-panel="runs"] [data-part="message"]').textContent.includes('not a runs file')`)
		if n := len(p.runs(t)); n != 2 {
			t.Errorf("after a bad import %d runs are listed, want 2", n)
		}
	})

	t.Run("a record of an older page opens and one of a newer page is refused with a message", func(t *testing.T) {
		eval[chromedp.Void](t, p, `new Promise((resolve, reject) => {
			const r = indexedDB.open('mnist-trainer');
			r.onsuccess = () => {
				const tx = r.result.transaction('runs', 'readwrite');
				// Format 0: no format field, and no workers, kernels, speed or weights recorded.
				tx.objectStore('runs').put({ id: 'old-1', name: 'An old run', createdAt: 1, preset: 'notebook',
					settings: { filters: '32,64,128' }, curve: { steps: [1, 2], loss: [2.3, 2.1], smooth: [2.3, 2.2] } });
				tx.objectStore('runs').put({ id: 'future-1', format: 99, name: 'From the future', settings: {} });
				tx.oncomplete = () => { r.result.close(); resolve(); };
				tx.onerror = () => reject(tx.error);
			};
			r.onerror = () => reject(r.error);
		})`)
		p.open(t, "?workers=2&"+recordRun)
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 4`)
		future := p.text(t, `tr[data-id="future-1"] .problem`)
		if !strings.Contains(future, "newer version") {
			t.Errorf("the newer record shows %q, want that a newer version wrote it", future)
		}
		old := p.text(t, `tr[data-id="old-1"]`)
		if !strings.Contains(old, "Notebook") || eval[bool](t, p, `!document.querySelector('tr[data-id="old-1"] input.run-select').disabled`) == false {
			t.Errorf("the old record shows %q and cannot be selected", old)
		}
	})

	// The list is drawn again whenever a run changes, and every redraw replaces its rows. A
	// keyboard user keeps their place through it, and a name being typed keeps its text.
	t.Run("the list keeps the focus and a name being typed across redraws", func(t *testing.T) {
		del := func(id string) string { return fmt.Sprintf(`tr[data-id=%q] button[data-action="delete"]`, id) }
		armed := func(id string) string {
			return fmt.Sprintf(`document.querySelector(%q)?.textContent === 'Really delete?'`, del(id))
		}
		// Enter on Delete asks again (a redraw); a second Enter, on the redrawn button, deletes.
		p.do(t, chromedp.Focus(chromedp.CSS(del("future-1"))), chromedp.KeyEvent(kb.Enter))
		p.poll(t, 5*time.Second, armed("future-1")+` && document.activeElement.matches('tr[data-id="future-1"] button[data-action="delete"]')`)
		p.do(t, chromedp.KeyEvent(kb.Enter))
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 3 && !document.querySelector('tr[data-id="future-1"]')`)

		// Arm old-1's Delete, then type a name while the question times out and the list redraws.
		p.click(t, del("old-1"))
		p.poll(t, 5*time.Second, armed("old-1"))
		name := `tr[data-id="old-1"] input.run-name`
		p.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).select()`, name)), chromedp.KeyEvent("Renamed"))
		p.poll(t, 10*time.Second, fmt.Sprintf(`!(%s)`, armed("old-1")))
		p.do(t, chromedp.KeyEvent(" in time"), chromedp.KeyEvent(kb.Enter))
		p.poll(t, 10*time.Second, `window.__mnist.runs.some((r) => r.id === 'old-1' && r.name === 'Renamed in time')`)

		// Two clicks delete it, each on the button as it is drawn then.
		p.click(t, del("old-1"))
		p.poll(t, 5*time.Second, armed("old-1"))
		p.click(t, del("old-1"))
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 2`)
	})
}

// waitForQuota waits until the site's store refuses a write of n bytes, so that a new quota
// (Storage.overrideQuotaForOrigin) is known to hold before the test relies on it. Each write the
// store still takes is deleted again, so the probe leaves the usage as it was.
func (p *page) waitForQuota(tb testing.TB, n int) {
	tb.Helper()
	probe := fmt.Sprintf(`new Promise((resolve) => {
		const gone = (refused) => { const d = indexedDB.deleteDatabase('quota-probe'); d.onsuccess = d.onerror = () => resolve(refused); };
		const r = indexedDB.open('quota-probe');
		r.onupgradeneeded = () => r.result.createObjectStore('p');
		r.onerror = () => resolve(r.error?.name === 'QuotaExceededError');
		r.onsuccess = () => {
			const tx = r.result.transaction('p', 'readwrite');
			tx.objectStore('p').put(new Uint8Array(%d).map(() => Math.random() * 256), 'probe');
			tx.oncomplete = () => { r.result.close(); gone(false); };
			tx.onabort = () => { r.result.close(); gone(tx.error?.name === 'QuotaExceededError'); };
		};
	})`, n)
	began := time.Now()
	for !eval[bool](tb, p, probe) {
		if time.Since(began) > 20*time.Second {
			tb.Fatalf("20 s after the new quota, the store still takes a write of %d bytes", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Logf("the store refused %d bytes %v after the new quota", n, time.Since(began).Round(100*time.Millisecond))
}

// TestBrowserExperiments runs the notebook's three experiments from one button, stops them in
// the second run, reloads, continues them, and runs them again: the same settings give the same
// numbers.
func TestBrowserExperiments(t *testing.T) {
	p := openBrowser(t)
	p.open(t, "?workers=2&"+recordRun)
	start := `[data-panel="runs"] [data-part="experiments-start"]`
	p.poll(t, 10*time.Second, fmt.Sprintf(`!document.querySelector(%q).disabled`, start))
	began := time.Now()
	p.click(t, start)
	p.poll(t, 2*time.Minute, `window.__mnist.queue && window.__mnist.queue.done.length === 1 && document.body.classList.contains('training')`)
	if text := p.text(t, `[data-panel="runs"] [data-part="queue"]`); !strings.Contains(text, "run 2 of 3") || !strings.Contains(text, "about") {
		t.Errorf("the queue says %q; want the run under way and an estimate", text)
	}
	p.click(t, `[data-panel="runs"] [data-part="experiments-stop"]`)
	p.poll(t, time.Minute, `window.__mnist.queue && !window.__mnist.queue.running && !document.body.classList.contains('training')`)
	q := eval[struct{ Remaining, Done []string }](t, p, `window.__mnist.queue`)
	if !slices.Equal(q.Remaining, []string{"half-filters", "kernel-4"}) || len(q.Done) != 1 {
		t.Fatalf("after Stop the queue is %+v; want half-filters and kernel-4 left", q)
	}
	// The stopped queue is kept: after a reload it says so, and Continue goes on with it.
	p.open(t, "?workers=2&"+recordRun)
	p.poll(t, 20*time.Second, `(() => { const b = document.querySelector('[data-panel="runs"] [data-part="experiments-continue"]'); return !b.hidden && !b.disabled; })()`)
	if q := eval[struct{ Remaining, Done []string }](t, p, `window.__mnist.queue`); !slices.Equal(q.Remaining, []string{"half-filters", "kernel-4"}) || len(q.Done) != 1 {
		t.Fatalf("after Stop and a reload the queue is %+v; want half-filters and kernel-4 left", q)
	}
	if text := p.text(t, `[data-panel="runs"] [data-part="queue"]`); !strings.Contains(text, "stopped") || !strings.Contains(text, "Half filters") {
		t.Errorf("after Stop and a reload the queue says %q", text)
	}
	p.click(t, `[data-panel="runs"] [data-part="experiments-continue"]`)
	p.poll(t, 3*time.Minute, `window.__mnist.queue === null && window.__mnist.compare.rows === 3`)
	t.Logf("the three experiments (with a stop) took %v", time.Since(began).Round(time.Second))
	// Each row's cells: name, accuracy, My digits, mixed in, macro F1, weighted F1, ten F1s,
	// parameters, images/s, wall time.
	table := `[...document.querySelectorAll('[data-panel="compare"] [data-part="table"] tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent))`
	firstRound := eval[[][]string](t, p, table)
	// A stopped run is kept too: 3 finished and 1 stopped.
	rows := p.runs(t)
	statuses := []string{}
	for _, r := range rows {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []string{"finished", "finished", "stopped", "finished"}) {
		t.Errorf("run statuses newest first %q, want finished ×2, stopped, finished", statuses)
	}

	// The comparison scrolls into view smoothly: a click by coordinates could land on it.
	eval[chromedp.Void](t, p, fmt.Sprintf(`document.querySelector(%q).click()`, start))
	p.poll(t, 3*time.Minute, `window.__mnist.queue === null && window.__mnist.runs.length === 7 && window.__mnist.compare.rows === 3`)
	secondRound := eval[[][]string](t, p, table)
	t.Logf("first round %q", firstRound)
	if len(firstRound) != 3 || len(secondRound) != 3 {
		t.Fatalf("compared %d, then %d runs", len(firstRound), len(secondRound))
	}
	for i := range firstRound { // the speed and wall time differ; accuracy, F1s and parameters must not
		if a, b := firstRound[i][1:17], secondRound[i][1:17]; !slices.Equal(a, b) {
			t.Errorf("experiment %d gave %q, then %q", i+1, a, b)
		}
	}
}

// TestBrowserRunsStorageFails fills the site's quota, and then takes IndexedDB away: each run is
// still shown, the page says what was not kept, and the run's weights still load.
func TestBrowserRunsStorageFails(t *testing.T) {
	t.Run("a full quota keeps the record without its weights, and says so", func(t *testing.T) {
		p := openBrowser(t)
		p.open(t, "?workers=2&"+recordRun)
		// 300 kB more than the site uses now (MNIST in Cache Storage, the page's offline copy): a
		// record of 8 steps fits, a weights file of 1.5 MB does not.
		usage, err := chromedp.Call(p.ctx, storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: p.base})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(p.ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: p.base, QuotaSize: new(usage.Usage + 300e3)}); err != nil {
			t.Fatal(err)
		}
		p.waitForQuota(t, 1e6)
		r := p.trainAndRecord(t, 1)
		msg := p.runsMessage(t)
		t.Logf("run %+v; message %q", r, msg)
		if !r.Kept || !strings.HasPrefix(r.Weights.Problem, "not kept") || !strings.Contains(msg, "full") {
			t.Errorf("run %+v, message %q: want the record kept, its weights not, and a message about the full store", r, msg)
		}
		// The weights stay in the page: making another model current and back still works.
		p.choosePreset(t, "half-filters", "16,32,64")
		p.trainAndRecord(t, 2)
		p.click(t, fmt.Sprintf(`tr[data-id=%q] button[data-action="activate"]`, r.ID))
		p.poll(t, 20*time.Second, fmt.Sprintf(`window.__mnist.current === %q`, r.ID))

		// No room even for a record: the run is listed as not saved, with the reason. Chromium lets
		// writes of a few kilobytes through a full quota (a 500-byte write was still taken 20 s
		// after a quota of 1 byte; a 4 kB one was refused only after about 12 s), so a record of 8
		// steps might be kept or not. The runs store refuses here as a full one does instead.
		eval[chromedp.Void](t, p, `(() => {
			const put = IDBObjectStore.prototype.put;
			IDBObjectStore.prototype.put = function (...args) {
				if (this.name === 'runs') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
				return put.apply(this, args);
			};
		})()`)
		p.choosePreset(t, "notebook", "32,64,128")
		third := p.trainAndRecord(t, 3)
		t.Logf("with the runs store refusing: %+v", third)
		if third.Kept || !strings.Contains(third.Problem, "not kept") || !eval[bool](t, p,
			fmt.Sprintf(`document.querySelector('tr[data-id=%q]').textContent.includes('not saved')`, third.ID)) {
			t.Errorf("a run the store refused: %+v, want it listed as not saved with the reason", third)
		}
	})

	t.Run("without IndexedDB the page says runs cannot be kept, and still lists and loads them", func(t *testing.T) {
		p := openBrowser(t)
		if _, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
			Object.defineProperty(window, 'indexedDB', { value: { open() { throw new DOMException('IndexedDB is switched off by the test', 'UnknownError'); } } });`}); err != nil {
			t.Fatal(err)
		}
		p.open(t, "?workers=2&"+recordRun)
		p.poll(t, 10*time.Second, `document.querySelector('[data-panel="runs"] [data-part="message"]').textContent.includes('cannot be kept')`)
		t.Logf("message: %q", p.runsMessage(t))
		r := p.trainAndRecord(t, 1)
		if r.Kept || r.Status != "finished" || r.Accuracy == nil {
			t.Errorf("run %+v: want it listed, finished, with its accuracy, and not kept", r)
		}
		p.choosePreset(t, "half-filters", "16,32,64")
		p.trainAndRecord(t, 2)
		p.click(t, fmt.Sprintf(`tr[data-id=%q] button[data-action="activate"]`, r.ID))
		p.poll(t, 20*time.Second, fmt.Sprintf(`window.__mnist.current === %q`, r.ID))
	})
}
