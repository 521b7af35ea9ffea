package pagetest

// Browser tests of what goes wrong, with the helpers of browser_test.go: a download that is cut
// off, refused, short or corrupted; a worker that runs out of memory or panics; a weights file
// holding a NaN; absurd URL parameters and control values; and a training run that diverges. Every run here is a few
// steps on a few dozen images.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// tinyRun trains 2 steps of 32 images, then measures the loss on 32 and tests on 50.
const tinyRun = "workers=2&train-images=64&batch=32&epochs=1&loss-images=32&test-images=50"

// A fault spoils one response for an MNIST file, as a flaky network or a broken proxy would.
type fault int

const (
	cutOff      fault = iota + 1 // a quarter of the file, then the connection closes, the full Content-Length promised
	unavailable                  // 503 Service Unavailable
	short                        // a quarter of the file, no Content-Length, the connection closed: it looks complete
	corrupted                    // the whole file with one byte changed
	stalled                      // a quarter of the file, then nothing, the connection held open
)

// faultyServer stands in front of the real server: it passes every request on, except the next
// request for a file that has a fault armed (arm), which gets that fault, once.
type faultyServer struct {
	*httptest.Server
	files map[string][]byte // the good MNIST files, by name

	mu     sync.Mutex
	faults map[string]fault
}

func newFaultyServer(tb testing.TB, real string) *faultyServer {
	tb.Helper()
	target, err := url.Parse(real)
	if err != nil {
		tb.Fatal(err)
	}
	f := &faultyServer{files: mnistFiles(tb), faults: map[string]fault{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		f.mu.Lock()
		what, ok := f.faults[name]
		delete(f.faults, name)
		f.mu.Unlock()
		if !ok || path.Dir(r.URL.Path) != "/data" {
			proxy.ServeHTTP(w, r)
			return
		}
		f.spoil(tb, w, what, f.files[name])
	}))
	tb.Cleanup(f.Close)
	return f
}

// arm makes the next request for the MNIST file name get the fault.
func (f *faultyServer) arm(name string, what fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[name] = what
}

func (f *faultyServer) spoil(tb testing.TB, w http.ResponseWriter, what fault, data []byte) {
	switch what {
	case unavailable:
		http.Error(w, "the data server is overloaded", http.StatusServiceUnavailable)
	case corrupted:
		bad := slices.Clone(data)
		bad[len(bad)/2] ^= 0xff
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(bad)
	case cutOff, short, stalled:
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			tb.Errorf("hijacking the connection: %v", err)
			return
		}
		defer conn.Close()
		length := fmt.Sprintf("Content-Length: %d", len(data))
		if what == short {
			length = "Connection: close"
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nCache-Control: no-store\r\n%s\r\n\r\n", length)
		buf.Write(data[:len(data)/4])
		buf.Flush()
		if what == stalled { // until the browser gives up and closes the connection
			conn.SetReadDeadline(time.Now().Add(time.Minute))
			io.Copy(io.Discard, conn)
		}
	}
}

// trainTiny presses Train and waits until the run has finished.
func (p *page) trainTiny(tb testing.TB) {
	tb.Helper()
	p.click(tb, "#train")
	p.poll(tb, 2*time.Minute, `!document.body.classList.contains('training') && window.__mnist.chart.epochs.length === 1`)
	if status := p.text(tb, "#status"); !strings.HasPrefix(status, "Finished: 1 epoch.") {
		tb.Fatalf("status after the run %q", status)
	}
}

// withValue returns a copy of the safetensors file data with value v at index of tensor name,
// written over its 4 bytes: the header, and so the file's layout, stay as they were.
func withValue(tb testing.TB, data []byte, name string, index int, v float32) []byte {
	tb.Helper()
	if len(data) < 8 {
		tb.Fatalf("a %d-byte file is not safetensors", len(data))
	}
	headerLen := binary.LittleEndian.Uint64(data[:8])
	if headerLen > uint64(len(data)-8) {
		tb.Fatalf("header length %d in a %d-byte file", headerLen, len(data))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+headerLen], &header); err != nil {
		tb.Fatal(err)
	}
	var entry struct {
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(header[name], &entry); err != nil {
		tb.Fatalf("tensor %s: %v", name, err)
	}
	at := 8 + int(headerLen) + entry.DataOffsets[0] + 4*index
	if at+4 > 8+int(headerLen)+entry.DataOffsets[1] {
		tb.Fatalf("tensor %s has no value %d", name, index)
	}
	out := slices.Clone(data)
	binary.LittleEndian.PutUint32(out[at:], math.Float32bits(v))
	return out
}

// timerDelay returns how late a 0 ms timer fires on the page: its event loop's wait.
func (p *page) timerDelay(tb testing.TB) time.Duration {
	tb.Helper()
	ms := eval[float64](tb, p, `new Promise((resolve) => {
		const start = performance.now();
		setTimeout(() => resolve(performance.now() - start), 0);
	})`)
	return time.Duration(ms * float64(time.Millisecond))
}

// maxPageResponseDelay is the longest the page's event loop may be busy: a timer must fire
// within it whatever the settings.
const maxPageResponseDelay = time.Second

func TestBrowserFaults(t *testing.T) {
	start := time.Now()
	p := openBrowser(t)

	t.Run("a download cut off, refused, stalled, short or corrupted says which file and what happened, and Try again recovers", func(t *testing.T) {
		f := newFaultyServer(t, p.base)
		fp := &page{ctx: p.ctx, base: f.URL, downloads: p.downloads}
		size := func(name string) string { return humanInt(len(f.files[name])) }
		for i, c := range []struct {
			file  string
			fault fault
			want  string // the status starts so
		}{
			{mnist.TrainImagesFile, cutOff, "Could not download train-images-idx3-ubyte.gz: the connection broke after "},
			{mnist.TrainLabelsFile, unavailable, "Could not download train-labels-idx1-ubyte.gz: the server answered 503 Service Unavailable."},
			{mnist.TrainImagesFile, stalled, fmt.Sprintf("Could not download train-images-idx3-ubyte.gz: nothing arrived for 15 s after %s bytes of %s bytes (the connection stalled).",
				humanInt(len(f.files[mnist.TrainImagesFile])/4), size(mnist.TrainImagesFile))},
			{mnist.TestImagesFile, short, fmt.Sprintf("Could not download t10k-images-idx3-ubyte.gz: the download ended after %s of %s bytes.",
				humanInt(len(f.files[mnist.TestImagesFile])/4), size(mnist.TestImagesFile))},
			{mnist.TestLabelsFile, corrupted, "Could not load MNIST: t10k-labels-idx1-ubyte.gz corrupted: SHA-256 is "},
		} {
			f.arm(c.file, c.fault)
			if i == 0 {
				fp.do(t, chromedp.Navigate(fp.base+"/?"+tinyRun+"&panels=train,loss"))
			} else {
				fp.click(t, "#retry")
			}
			fp.poll(t, time.Minute, `!document.querySelector('#retry').hidden`)
			status := fp.text(t, "#status")
			t.Logf("%s: %s", c.file, status)
			if !strings.HasPrefix(status, c.want) {
				t.Errorf("status %q, want it to start %q", status, c.want)
			}
			if c.fault == cutOff && !strings.Contains(status, " of "+size(c.file)+" bytes (") {
				t.Errorf("status %q does not say how much of the %s bytes came", status, size(c.file))
			}
			// Nothing is loaded, so nothing can be trained on.
			if !eval[bool](t, fp, `document.querySelector('#train').disabled && window.__mnist.timings.loaded === undefined`) {
				t.Errorf("after %q, Train is enabled or MNIST counts as loaded", status)
			}
		}
		fp.click(t, "#retry")
		fp.poll(t, time.Minute, `document.querySelector('#status').textContent.startsWith('Ready')`)
		fp.trainTiny(t)
	})

	t.Run("a worker that runs out of memory or panics offers Restart, and weights exported before still import", func(t *testing.T) {
		p.open(t, "?"+tinyRun+"&panels=train,loss,draw,weights")
		p.trainTiny(t)
		p.drawSeven(t)
		trained := p.waitForPrediction(t, 0)
		file, _ := p.exportWeights(t)

		for _, c := range []struct {
			worker int
			how    string
			want   string
		}{
			{0, "oom", "Worker 1 of 2 failed: it ran out of memory: its WebAssembly memory could not grow beyond "},
			{1, "panic", "Worker 2 of 2 failed: the Go program stopped: panic: crash of worker 2 requested by a test"},
		} {
			eval[chromedp.Void](t, p, fmt.Sprintf(`window.__mnist.crashWorker(%d, %q)`, c.worker, c.how))
			p.poll(t, time.Minute, `!document.querySelector('#restart').hidden`)
			status := p.text(t, "#status")
			t.Logf("%s: %s", c.how, status)
			if !strings.HasPrefix(status, c.want) || !strings.HasSuffix(status, "Press Restart to start the trainer again.") {
				t.Errorf("status %q, want it to start %q and offer Restart", status, c.want)
			}
			if !eval[bool](t, p, `document.querySelector('#train').disabled && document.querySelector('#status').classList.contains('error')`) {
				t.Error("Train is enabled, or the status is not an error, after the team failed")
			}

			_, updates := p.probabilities(t)
			p.click(t, "#restart")
			p.poll(t, time.Minute, `document.querySelector('#status').textContent.startsWith('Ready')`)
			fresh := p.waitForPrediction(t, updates)
			if slices.Equal(fresh, trained) {
				t.Fatalf("after Restart the drawing gets the trained model's probabilities %v: the restart kept the model?", trained)
			}
			after := p.importWeights(t, file)
			if msg := p.text(t, "#weights-message"); !strings.HasPrefix(msg, "Loaded mnist-weights.safetensors") {
				t.Errorf("weights message after Restart %q", msg)
			}
			for i := range trained {
				if math.Abs(trained[i]-after[i]) > 1e-6 {
					t.Fatalf("after %s and Restart, the imported weights give %v, before %v", c.how, after, trained)
				}
			}
		}
	})

	t.Run("a weights file holding a NaN is refused with model.Load's message, and the current model is unchanged", func(t *testing.T) {
		p.open(t, "?"+tinyRun+"&panels=train,draw,model,weights")
		p.drawSeven(t)
		drawn := p.waitForPrediction(t, 0)
		_, exported := p.exportWeights(t)
		const name = "nan-bias.safetensors"
		data := withValue(t, exported, "conv1.bias", 3, float32(math.NaN()))
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		backend, err := model.GoBackend()
		if err != nil {
			t.Fatal(err)
		}
		const refusal = "weights file: tensor conv1.bias holds NaN at index 3"
		want := refusal + "…"
		if _, loadErr := model.Load(backend, data); loadErr == nil || !strings.HasPrefix(loadErr.Error(), refusal) {
			t.Errorf("model.Load: %v, want an error starting %q", loadErr, refusal)
		} else {
			want = loadErr.Error()
		}
		want = "Could not import " + name + ": " + want + ". The current model is unchanged."
		filters := eval[string](t, p, `document.querySelector('#f-filters').value`)
		total := p.text(t, "#summary tfoot td:last-child")

		after := p.importWeights(t, file)
		msg := p.text(t, "#weights-message")
		t.Logf("%s: %s", name, msg)
		if msg != want {
			t.Errorf("the page says\n\t%s\nwant:\n\t%s", msg, want)
		}
		if !p.weightsAlertShown(t) {
			t.Error("the message is not a visible alert")
		}
		if !slices.Equal(after, drawn) {
			t.Errorf("probabilities changed from %v to %v", drawn, after)
		}
		if got := eval[string](t, p, `document.querySelector('#f-filters').value`); got != filters {
			t.Errorf("the filters control changed from %s to %s", filters, got)
		}
		if got := p.text(t, "#summary tfoot td:last-child"); got != total {
			t.Errorf("the model summary's total changed from %s to %s", total, got)
		}
	})

	t.Run("absurd URL parameters are refused with a message naming the setting, and the tab stays responsive", func(t *testing.T) {
		// How late a 50 ms timer fires, from the start of every page load.
		added, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__maxTimerDelay = 0;
			let last = performance.now();
			setInterval(() => {
				const now = performance.now();
				window.__maxTimerDelay = Math.max(window.__maxTimerDelay, now - last - 50);
				last = now;
			}, 50);`})
		if err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(p.ctx, cdppage.RemoveScriptToEvaluateOnNewDocument,
			cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: added.Identifier})
		long := strings.Repeat("7", 10_000)
		var latest time.Duration // the latest any timer fired, over all the page loads
		for _, c := range []struct {
			query string
			field string // the control the message goes under; "" when the page does not start
			want  string
		}{
			{"epochs=-3", "f-epochs", "epochs: -3 is outside 1..1000"},
			{"filters=1000000,1,1", "f-filters", "filters: conv1 has 1000000 filters; it needs 1..512"},
			{"batch=lots", "f-batch", `batch: "lots" is not an integer`},
			{"lr=NaN", "f-lr", `lr: "NaN" is not a number`},
			{"batch=0", "f-batch", "batch: size 0 is outside 1..4096"},
			{"test-images=-5", "test-images", `test-images: "-5" must be a whole number from 0 to 10000 (0 = all).`},
			{"preset=huge", "preset", `unknown preset "huge" (known: notebook, half-filters, kernel-4)`},
			{"seed=" + long, "f-seed", `seed: "` + long[:40] + `…" (10000 characters) is not an integer`},
			{"workers=999", "", `workers: "999" must be a whole number from 1 to 4 (1: a single worker).`},
			{"panels=nonsense", "", `panels: "nonsense" is not a panel; the panels are train, loss, runs, compare, draw, digits, report, confusion, kernels, features, model, weights.`},
		} {
			name, _, _ := strings.Cut(c.query, "=")
			query := "?train-images=64&loss-images=32&" + c.query
			loaded := p.load(t, query)
			status := p.text(t, "#status")
			t.Logf("%s (%d characters): %s", name, len(c.query), status)
			if c.field == "" {
				if status != c.want || loaded || eval[int](t, p, `window.__mnist.workers`) != 0 {
					t.Errorf("%s: status %q, want %q and no workers", name, status, c.want)
				}
			} else {
				if !loaded {
					t.Fatalf("%s: MNIST did not load: %s", name, status)
				}
				if status != "Check the settings: "+c.want {
					t.Errorf("%s: status %q, want %q", name, status, "Check the settings: "+c.want)
				}
				if got := p.text(t, "#"+c.field+"-error"); got != c.want {
					t.Errorf("%s: under the control: %q", name, got)
				}
				// Train refuses too.
				p.click(t, "#train")
				time.Sleep(300 * time.Millisecond)
				if status := p.text(t, "#status"); status != "Check the settings: "+c.want || p.text(t, "#stat-step") != "–" {
					t.Errorf("%s: after pressing Train the status is %q and the step %q: it started", name, status, p.text(t, "#stat-step"))
				}
			}
			// lateness is how late the page's timers fired during its load, and fire now.
			lateness := func() (worst, now time.Duration) {
				return time.Duration(eval[float64](t, p, `window.__maxTimerDelay`) * float64(time.Millisecond)), p.timerDelay(t)
			}
			worst, now := lateness()
			if worst > maxPageResponseDelay || now > maxPageResponseDelay {
				// Now and then one of these loads stalls the page for about a second, whatever its
				// setting (1.2 and 1.27 s in fresh clones' CI, 0.67–1.22 s locally in a third of the
				// runs, where the same loads measure 7–140 ms otherwise; it comes and goes with the
				// loads before it, not with the setting). A page that a setting freezes freezes
				// again, so the load is measured once more.
				t.Logf("%s: the page's timers were late by up to %v during the load, %v after it; loading it again", name, worst, now)
				p.load(t, query)
				worst, now = lateness()
			}
			latest = max(latest, worst, now)
			if worst > maxPageResponseDelay || now > maxPageResponseDelay {
				t.Errorf("%s: the page's timers were late by up to %v during the load, %v now, in two loads; want at most %v", name, worst, now, maxPageResponseDelay)
			}
		}
		t.Logf("the page's timers fired at most %v late, from the start of each page load", latest.Round(time.Millisecond))
	})

	t.Run("absurd control values are refused with a message under the control, and Train does not start", func(t *testing.T) {
		p.open(t, "?"+tinyRun+"&panels=train,loss")
		for _, c := range []struct{ field, value, want string }{
			{"epochs", "-3", "epochs: -3 is outside 1..1000"},
			{"filters", "1000000,1,1", "filters: conv1 has 1000000 filters; it needs 1..512"},
			{"dense", "wide", `dense: "wide" needs 2 comma-separated integers`},
			{"lr", "NaN", `lr: "NaN" is not a number`},
			{"batch", "0", "batch: size 0 is outside 1..4096"},
			{"kernel", strings.Repeat("9", 10_000), `kernel: "` + strings.Repeat("9", 40) + `…" (10000 characters) is not an integer`},
		} {
			id := "#f-" + c.field
			good := eval[string](t, p, fmt.Sprintf(`document.querySelector(%q).value`, id))
			setControl := func(v string) {
				eval[chromedp.Void](t, p, fmt.Sprintf(`(() => {
					const input = document.querySelector(%q);
					input.value = %q;
					input.dispatchEvent(new Event('input', {bubbles: true}));
				})()`, id, v))
			}
			setControl(c.value)
			p.poll(t, 10*time.Second, fmt.Sprintf(`!document.querySelector('%s-error').hidden`, id))
			if got := p.text(t, id+"-error"); got != c.want {
				t.Errorf("%s = %.40s: under the control %q, want %q", c.field, c.value, got, c.want)
			}
			p.click(t, "#train")
			time.Sleep(300 * time.Millisecond)
			if status := p.text(t, "#status"); status != "Check the settings: "+c.want || p.text(t, "#stat-step") != "–" {
				t.Errorf("%s = %.40s: after pressing Train the status is %q and the step %q", c.field, c.value, status, p.text(t, "#stat-step"))
			}
			if d := p.timerDelay(t); d > maxPageResponseDelay {
				t.Errorf("%s = %.40s: a timer fired %v late", c.field, c.value, d)
			}
			setControl(good)
			p.poll(t, 10*time.Second, fmt.Sprintf(`document.querySelector('%s-error').hidden && document.querySelector('#status').textContent === 'Ready to train.'`, id))
		}
	})

	t.Run("a network too large for a tab's memory is refused under the setting that drives it with Train disabled, and a large one is warned of", func(t *testing.T) {
		// model.MemoryEstimate's refusal, as the worker words it (session.BrowserRoom).
		refusal := func(query string) string {
			q, err := url.ParseQuery(query)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := model.FromQuery(q)
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			if err := cfg.CheckMemory(model.BrowserMemoryLimit, "a browser tab can give it"); err != nil {
				return err.Error()
			}
			return ""
		}
		setControls := func(values map[string]string) {
			for field, v := range values {
				eval[chromedp.Void](t, p, fmt.Sprintf(`(() => {
					const input = document.querySelector('#f-%s');
					input.value = %q;
					input.dispatchEvent(new Event('input', {bubbles: true}));
				})()`, field, v))
			}
		}
		trainDisabled := func() bool { return eval[bool](t, p, `document.querySelector('#train').disabled`) }

		// The example: every setting within its range, conv3's im2col alone 1.26 GB at batch 64.
		const huge = "filters=512,512,512&kernel=7&stride=1"
		want := refusal(huge)
		if !strings.HasPrefix(want, "filters: this network needs about 5.29 GB of memory at its peak, more than the 1.5 GB") {
			t.Fatalf("model's refusal of %s: %q", huge, want)
		}
		if !p.load(t, "?train-images=64&loss-images=32&panels=train,model,weights&"+huge) {
			t.Fatalf("MNIST did not load: %s", p.text(t, "#status"))
		}
		status := p.text(t, "#status")
		t.Logf("%s: %s", huge, status)
		if status != "Check the settings: "+want {
			t.Errorf("status %q, want %q", status, "Check the settings: "+want)
		}
		if got := p.text(t, "#f-filters-error"); got != want {
			t.Errorf("under the filters: %q", got)
		}
		if !trainDisabled() {
			t.Error("Train is enabled for a network the tab cannot hold")
		}
		p.click(t, "#train") // disabled: nothing happens
		time.Sleep(300 * time.Millisecond)
		if status := p.text(t, "#status"); status != "Check the settings: "+want || p.text(t, "#stat-step") != "–" {
			t.Errorf("after pressing Train the status is %q and the step %q", status, p.text(t, "#stat-step"))
		}

		// Large but within the limit: a warning with the estimate and what drives it, and Train works.
		const large = "filters=32,64,128&kernel=7&stride=1"
		cfg, err := model.FromQuery(url.Values{"filters": {"32,64,128"}, "kernel": {"7"}, "stride": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		est := cfg.MemoryEstimate()
		if est.Peak < 500_000_000 || est.Peak > model.BrowserMemoryLimit {
			t.Fatalf("%s: estimate %s, want between the warning and the limit", large, est)
		}
		setControls(map[string]string{"filters": "32,64,128"})
		p.poll(t, 10*time.Second, `document.querySelector('#f-filters-error').hidden && !document.querySelector('#memory-warning').hidden`)
		warning := p.text(t, "#memory-warning")
		t.Logf("%s: %s", large, warning)
		if !strings.Contains(warning, est.String()) || !strings.Contains(warning, "1.5 GB") {
			t.Errorf("the warning %q does not give the estimate (%s) and the limit", warning, est)
		}
		if trainDisabled() || p.text(t, "#status") != "Ready to train." {
			t.Errorf("for %s, Train is disabled or the status is %q", large, p.text(t, "#status"))
		}
		// The notebook's network needs little: no warning.
		setControls(map[string]string{"kernel": "3", "stride": "2"})
		p.poll(t, 10*time.Second, `document.querySelector('#memory-warning').hidden`)

		// A weights file whose network fits but whose batch does not: it imports, and Train refuses
		// until the batch is smaller.
		notebook := model.DefaultConfig()
		notebook.BatchSize = 4096
		file, _ := weightsFile(t, notebook, "batch-4096.safetensors")
		// The page's own figures are the WebAssembly build's, whose 3×3 convolutions are Winograd's
		// (model/winograd.go), so its estimate is not this native test's: the refusal's shape is.
		wantRe := regexp.MustCompile(`^batch: this network needs about [\d.]+ GB of memory at its peak, more than the 1\.5 GB a browser tab can give it; the largest part is .* at batch 4096 \(batch\)\. A smaller batch would need less$`)
		p.do(t, chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{file}))
		p.poll(t, 20*time.Second, `document.querySelector('#weights-message').textContent.startsWith('Loaded batch-4096')`)
		if got, status := p.text(t, "#f-batch-error"), p.text(t, "#status"); !wantRe.MatchString(got) || status != "Check the settings: "+got || !trainDisabled() {
			t.Errorf("after importing a file of batch 4096: under the batch %q, status %q, Train disabled %v; want %s", got, status, trainDisabled(), wantRe)
		}
		setControls(map[string]string{"batch": "32"})
		p.poll(t, 10*time.Second, `document.querySelector('#f-batch-error').hidden && !document.querySelector('#train').disabled`)
	})

	t.Run("a run that diverges says the learning rate is too high, leaves a clean chart, and Train works again", func(t *testing.T) {
		p.open(t, "?workers=2&lr=10&train-images=640&batch=32&epochs=1&loss-images=64&test-images=100&panels=train,loss,draw")
		p.drawSeven(t)
		untrained := p.waitForPrediction(t, 0)
		_, updates := p.probabilities(t)
		p.click(t, "#train")
		p.poll(t, time.Minute, `/^(Training failed|Finished|Stopped)/.test(document.querySelector('#status').textContent)`)
		status := p.text(t, "#status")
		t.Logf("status: %s", status)
		if !strings.HasPrefix(status, "Training failed: training diverged at step ") ||
			!strings.Contains(status, "the learning rate 10 is probably too high; try 0.005") {
			t.Errorf("status %q, want model.ErrDiverged's message", status)
		}
		if got := p.text(t, "#f-lr-error"); !strings.HasPrefix(got, "training diverged") {
			t.Errorf("under the learning rate: %q, want the divergence", got)
		}
		// The page tells a divergence by its code: the run is listed as diverged, with no weights.
		p.poll(t, 10*time.Second, `window.__mnist.runs.length > 0 && window.__mnist.runs[0].status !== 'training'`)
		if run := eval[struct{ Status, Current string }](t, p, `({status: window.__mnist.runs[0].status, current: window.__mnist.current})`); run.Status != "diverged" || run.Current != "" {
			t.Errorf("the run is listed as %q, with %q current; want diverged, and the model from before it (none recorded)", run.Status, run.Current)
		}
		// The model is the one from before the run, not the diverged one.
		if after := p.waitForPrediction(t, updates); !slices.Equal(after, untrained) {
			t.Errorf("after the divergence the drawing gets %v, before the run %v", after, untrained)
		}

		// The chart holds the good steps before the divergence, and nothing after.
		chart := eval[chartData](t, p, `window.__mnist.chart`)
		time.Sleep(time.Second)
		if again := eval[chartData](t, p, `window.__mnist.chart`); len(again.Steps) != len(chart.Steps) {
			t.Errorf("the chart went on from %d to %d steps after the run failed", len(chart.Steps), len(again.Steps))
		}
		t.Logf("chart: steps %v, losses %.3f", chart.Steps, chart.Loss)
		if len(chart.Steps) == 0 || len(chart.Epochs) != 0 {
			t.Errorf("the chart has %d steps and %d epoch marks, want the steps before the divergence and no mark", len(chart.Steps), len(chart.Epochs))
		}
		for i := range chart.Steps {
			if l, s := chart.Loss[i], chart.Smooth[i]; !(l < 50 && s < 50) || math.IsNaN(l) || math.IsNaN(s) || chart.Steps[i] != float64(i+1) {
				t.Errorf("chart point %d: step %v, loss %v, smoothed %v", i, chart.Steps[i], l, s)
			}
		}

		// The controls are back: Train can be pressed, and with a sane rate it trains.
		if !eval[bool](t, p, `!document.querySelector('#train').disabled && !document.querySelector('#settings-fields').disabled &&
				document.querySelector('#stop').disabled && document.querySelector('#pause').disabled`) {
			t.Fatal("after the divergence, Train or the settings are disabled, or Pause or Stop enabled")
		}
		eval[chromedp.Void](t, p, `(() => {
			const input = document.querySelector('#f-lr');
			input.value = '0.005';
			input.dispatchEvent(new Event('input', {bubbles: true}));
		})()`)
		p.poll(t, 10*time.Second, `document.querySelector('#f-lr-error').hidden`)
		p.click(t, "#train")
		p.poll(t, time.Minute, `window.__mnist.chart.steps.length >= 3`)
		p.click(t, "#stop")
		p.poll(t, 30*time.Second, `!document.querySelector('#train').disabled`)
		chart = eval[chartData](t, p, `window.__mnist.chart`)
		t.Logf("with lr 0.005: losses %.3f", chart.Loss)
		if chart.Steps[0] != 1 || slices.ContainsFunc(chart.Loss, func(l float64) bool { return !(l < 5) }) {
			t.Errorf("the new run's chart: steps %v, losses %v", chart.Steps, chart.Loss)
		}
	})

	t.Logf("browser fault suite took %v", time.Since(start).Round(time.Second))
}
