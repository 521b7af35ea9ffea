package pagetest

// Browser tests of the page's start in browsers that differ from the one it is written in, with
// the helpers of browser_test.go: every failure before the page is ready says what happened in
// the status line (a module that cannot be fetched or throws, a worker that does not start, a
// main.wasm that does not compile, a missing API); an invalid language tag (WebKitGTK's "C")
// and missing optional features (IndexedDB, Cache Storage, Web Locks, the storage estimate)
// leave it working and say so. And the page's look: no continuous animation while it trains,
// and every panel fits its frame from 360 px up.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// brokenServer stands in front of the real server at real and answers the paths in broken
// itself: the page's files as a broken deployment or proxy would serve them. A server of its own
// is an origin of its own, with no service worker or caches from the other tests.
func brokenServer(tb testing.TB, real string, broken map[string]http.HandlerFunc) *httptest.Server {
	tb.Helper()
	target, err := url.Parse(real)
	if err != nil {
		tb.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := broken[r.URL.Path]; ok {
			h(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// serveText answers with body as contentType.
func serveText(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, body)
	}
}

// withInitScript runs script in every document the tab opens until the returned func is called,
// before the page's own scripts: a browser that lacks an API, or says another language.
func (p *page) withInitScript(tb testing.TB, script string) (remove func()) {
	tb.Helper()
	added, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: script})
	if err != nil {
		tb.Fatal(err)
	}
	return func() {
		chromedp.Call(p.ctx, cdppage.RemoveScriptToEvaluateOnNewDocument,
			cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: added.Identifier})
	}
}

// waitForError loads query and waits until the status line shows an error, and returns it.
func (p *page) waitForError(tb testing.TB, base, query string) string {
	tb.Helper()
	p.do(tb, chromedp.Navigate(base+"/"+query))
	p.poll(tb, time.Minute, `document.querySelector('#status').classList.contains('error')`)
	return p.text(tb, "#status")
}

const versions = "The trainer needs Safari 16.4, Firefox 89 or Chrome 91, or newer."

func TestBrowserStart(t *testing.T) {
	p := openBrowser(t)
	const query = "?workers=1&panels=train,loss"

	t.Run("each failure before ready says what happened in the status line", func(t *testing.T) {
		for _, c := range []struct {
			name         string
			broken       map[string]http.HandlerFunc
			script       string // run before the page's scripts
			prefix, want string // the status starts with prefix, and contains want
		}{
			{
				name:   "a module that cannot be fetched",
				broken: map[string]http.HandlerFunc{"/chart.js": http.NotFound},
				prefix: "The page’s scripts could not be loaded (TypeError: ", want: "Check the connection, then reload the page.",
			},
			{
				name: "a module that throws while it is evaluated",
				broken: map[string]http.HandlerFunc{"/visuals.js": serveText("text/javascript", string(readFile(t, "../web/visuals.js"))+
					"\nthrow new Error('a test broke this module');\n")},
				prefix: "The trainer could not start: Error: a test broke this module. Reload the page to try again.",
			},
			{
				name:   "a worker whose script is missing",
				broken: map[string]http.HandlerFunc{"/worker.js": http.NotFound},
				prefix: "The trainer failed: its script (worker.js) could not be loaded or run. Press Restart to start the trainer again.",
			},
			{
				name:   "a main.wasm that does not compile",
				broken: map[string]http.HandlerFunc{"/main.wasm": serveText("application/wasm", "this is not WebAssembly")},
				prefix: "The trainer failed: main.wasm could not be loaded: CompileError: ", want: "Press Restart to start the trainer again.",
			},
			{
				name:   "a browser without Web Workers",
				script: `delete window.Worker;`,
				prefix: "This browser cannot run the trainer: it lacks Web Workers. " + versions,
			},
			{
				name:   "a browser without WebAssembly SIMD",
				script: `WebAssembly.validate = () => false;`,
				prefix: "This browser cannot run the trainer: it lacks WebAssembly SIMD (SIMD128). " + versions,
			},
			{
				name:   "an uncaught error while the page starts",
				script: `window.addEventListener('DOMContentLoaded', () => setTimeout(() => { throw new Error('a test threw this'); }));`,
				prefix: "The trainer stopped before it was ready: Error: a test threw this. Reload the page to try again.",
			},
		} {
			s := brokenServer(t, p.base, c.broken)
			remove := func() {}
			if c.script != "" {
				remove = p.withInitScript(t, c.script)
			}
			status := p.waitForError(t, s.URL, query)
			remove()
			t.Logf("%s: %s", c.name, status)
			if !strings.HasPrefix(status, c.prefix) || !strings.Contains(status, c.want) {
				t.Errorf("%s: status %q, want it to start %q and contain %q", c.name, status, c.prefix, c.want)
			}
		}
	})

	t.Run("a team whose worker does not start is started again, and trains", func(t *testing.T) {
		script := string(readFile(t, "../web/worker.js"))
		for _, c := range []struct {
			name     string
			n        string // the worker.js?n= whose first copy is broken
			old, new string // what changes in it
		}{
			// Firefox 153 now and then blocks worker 0 for good in `new Worker`.
			{name: "worker 1 never returns from starting worker 2", n: "1", old: "w = new Worker(", new: "for (;;); w = new Worker("},
			{name: "worker 2's script never runs", n: "2", old: "'use strict';\n", new: "'use strict';\nfor (;;);\n"},
			// Firefox once never ran worker 1's script, in a frame, and failed it a minute later.
			{name: "worker 1's script never runs", n: "1", old: "'use strict';\n", new: "'use strict';\nfor (;;);\n"},
		} {
			if !strings.Contains(script, c.old) {
				t.Fatalf("%s: worker.js has no %q to break", c.name, c.old)
			}
			var served atomic.Int32
			s := brokenServer(t, p.base, map[string]http.HandlerFunc{"/worker.js": func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("n") == c.n && served.Add(1) == 1 {
					serveText("text/javascript", strings.Replace(script, c.old, c.new, 1))(w, r)
					return
				}
				serveText("text/javascript", script)(w, r)
			}})
			p.do(t, chromedp.Navigate(s.URL+"/?"+tinyRun+"&panels=train,loss"))
			p.poll(t, time.Minute, `window.__mnist && window.__mnist.timings.loaded !== undefined || document.querySelector('#status.error') !== null`)
			if status := p.text(t, "#status"); !strings.HasPrefix(status, "Ready") {
				t.Fatalf("%s: status %q, want Ready", c.name, status)
			}
			r := eval[struct{ Workers, Relaunched int }](t, p, `({Workers: window.__mnist.workers, Relaunched: window.__mnist.team.relaunched})`)
			t.Logf("%s: %d workers ready after %d relaunch", c.name, r.Workers, r.Relaunched)
			if r.Workers != 2 || r.Relaunched != 1 || served.Load() < 2 {
				t.Errorf("%s: %d workers after %d relaunches (worker.js?n=%s served %d times), want 2 after 1", c.name, r.Workers, r.Relaunched, c.n, served.Load())
			}
			p.trainTiny(t)
		}
	})

	// renewBroken serves a worker.js whose copies of worker 2 numbered in broken (the first is the
	// team's, the second the fresh worker 2 that renew starts once the page has measured its team,
	// worker 2 having measured alone, the next its starts again) never run, and counts worker 2's.
	renewBroken := func(broken ...int32) (*httptest.Server, *atomic.Int32) {
		script := string(readFile(t, "../web/worker.js"))
		var served atomic.Int32
		return brokenServer(t, p.base, map[string]http.HandlerFunc{"/worker.js": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("n") == "2" && slices.Contains(broken, served.Add(1)) {
				serveText("text/javascript", strings.Replace(script, "'use strict';\n", "'use strict';\nfor (;;);\n", 1))(w, r)
				return
			}
			serveText("text/javascript", script)(w, r)
		}}), &served
	}
	// trainAtLoad presses Train as soon as MNIST is loaded, while the page measures its team: the
	// run waits for the choice, and for renew's worker (TestBrowserTeamChosen).
	trainAtLoad := func(t *testing.T, s *httptest.Server) (readyAt float64) {
		p.do(t, chromedp.Navigate(s.URL+"/?train-images=64&batch=32&epochs=1&loss-images=32&test-images=50&panels=train,loss"))
		p.poll(t, time.Minute, `window.__mnist && window.__mnist.timings.loaded !== undefined || document.querySelector('#status.error') !== null`)
		if status := p.text(t, "#status"); !strings.HasPrefix(status, "Ready") || !strings.Contains(status, "being measured") {
			t.Fatalf("status %q, want Ready, the team being measured", status)
		}
		readyAt = eval[float64](t, p, `window.__mnist.timings.ready`)
		p.click(t, "#train")
		p.poll(t, 2*time.Minute, `/^(Finished|Stopped|Training failed|The run did not train)/.test(document.querySelector('#status').textContent) ||
			document.querySelector('#status.error') !== null`)
		if eval[int](t, p, `window.__mnist.team.training`) == 1 {
			t.Skip("this browser measured one worker the fastest: no worker is started afresh")
		}
		return readyAt
	}

	t.Run("a worker that renew starts and does not start is started again, and the Train pressed meanwhile trains", func(t *testing.T) {
		s, served := renewBroken(2)
		readyAt := trainAtLoad(t, s)
		r := eval[struct {
			Status                string
			Ready                 float64
			Respawned, Relaunched int
		}](t, p, `({Status: document.querySelector('#status').textContent, Ready: window.__mnist.timings.ready,
			Respawned: window.__mnist.team.respawned, Relaunched: window.__mnist.team.relaunched})`)
		t.Logf("worker.js?n=2 served %d times; %+v", served.Load(), r)
		if !strings.HasPrefix(r.Status, "Finished: 1 epoch.") {
			t.Errorf("the Train pressed while renew's worker did not start: status %q, want Finished", r.Status)
		}
		if served.Load() != 3 || r.Respawned != 1 || r.Relaunched != 0 || r.Ready != readyAt {
			t.Errorf("worker.js?n=2 served %d times, renew's worker started again %d times, the team %d times, the page ready at %v ms then %v; "+
				"want 3, once, never, the same team", served.Load(), r.Respawned, r.Relaunched, readyAt, r.Ready)
		}
	})

	t.Run("a worker that renew starts, nor its starts again, does not start: a new team at once, and Ready says the run did not train", func(t *testing.T) {
		s, served := renewBroken(2, 3, 4)
		trainAtLoad(t, s)
		status := p.text(t, "#status")
		t.Logf("worker.js?n=2 served %d times: %s", served.Load(), status)
		const want = "The run did not train: Worker 2 of 2 failed: it did not start within 5 s, 3 times. The trainer started again. Ready: "
		if !strings.HasPrefix(status, want) || !eval[bool](t, p, `document.querySelector('#restart').hidden`) {
			t.Fatalf("after renew's worker and its starts again did not start: status %q, want it to start %q, without Restart", status, want)
		}
		if n := eval[int](t, p, `window.__mnist.workers`); n != 2 {
			t.Errorf("the new team has %d workers, want the 2 measured", n)
		}
		p.trainTiny(t)
	})

	t.Run("a first team that never starts, nor its relaunches, has the page reload itself once, and it trains", func(t *testing.T) {
		// Firefox 153 now and then runs no worker of a first team nor of both relaunches, where a
		// reload gets ready at once. Here worker 1's first two copies never run (two relaunches)
		// and the third is missing (the last try fails at once, not after 60 s); the reload's is
		// whole.
		script := string(readFile(t, "../web/worker.js"))
		var served atomic.Int32
		s := brokenServer(t, p.base, map[string]http.HandlerFunc{"/worker.js": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("n") == "1" {
				switch served.Add(1) {
				case 1, 2:
					serveText("text/javascript", strings.Replace(script, "'use strict';\n", "'use strict';\nfor (;;);\n", 1))(w, r)
					return
				case 3:
					http.NotFound(w, r)
					return
				}
			}
			serveText("text/javascript", script)(w, r)
		}})
		p.do(t, chromedp.Navigate(s.URL+"/?"+tinyRun+"&panels=train,loss"))
		// The page reloads itself: an evaluation meanwhile may find no page to run in.
		const ready = `window.__mnist && window.__mnist.timings.loaded !== undefined && performance.getEntriesByType('navigation')[0].type === 'reload'
			|| document.querySelector('#status.error') !== null`
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ready))
			cancel()
			if err == nil && done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reload to Ready within 90 s: worker.js?n=1 served %d times; status %q", served.Load(), p.text(t, "#status"))
			}
		}
		if status := p.text(t, "#status"); !strings.HasPrefix(status, "Ready") {
			t.Fatalf("after the page reloaded itself: status %q, want Ready", status)
		}
		t.Logf("Ready after the page reloaded itself (worker.js?n=1 served %d times)", served.Load())
		p.trainTiny(t)
	})

	t.Run("a language tag no Intl constructor takes (WebKitGTK's C) leaves the page working, in en-US", func(t *testing.T) {
		defer p.withInitScript(t, `Object.defineProperty(Navigator.prototype, 'language', { get: () => 'C', configurable: true });`)()
		p.open(t, "?"+tinyRun+"&panels=train,loss")
		r := eval[struct {
			Throws   bool
			Fallback string
			Language string
		}](t, p, `({Throws: (() => { try { new Intl.NumberFormat('C'); return false; } catch { return true; } })(),
			Fallback: window.mnistBoot.localeFallback, Language: navigator.language})`)
		if !r.Throws {
			t.Fatal(`new Intl.NumberFormat("C") does not throw in this browser: the test simulates nothing`)
		}
		if r.Fallback != "C" || r.Language != "en-US" {
			t.Errorf("the page read the language tag %q (replaced %q), want en-US instead of C", r.Language, r.Fallback)
		}
		// The charts' axes are drawn with uPlot's formatter, made as its module was evaluated.
		if got := eval[string](t, p, `import('./vendor/uPlot.esm.js').then((m) => m.default.fmtNum(12345.5))`); got != "12,345.5" {
			t.Errorf("uPlot formats 12345.5 as %q, want 12,345.5 (en-US)", got)
		}
		p.trainTiny(t)
	})

	t.Run("without IndexedDB, Cache Storage, Web Locks and the storage estimate it says so and trains", func(t *testing.T) {
		defer p.withInitScript(t, `
			Object.defineProperty(window, 'indexedDB', { value: undefined });
			Object.defineProperty(window, 'caches', { value: undefined });
			delete Navigator.prototype.locks;
			delete StorageManager.prototype.estimate;`)()
		p.open(t, "?"+tinyRun+"&panels=train,runs")
		limits := p.text(t, "#limits")
		t.Logf("limits: %s", limits)
		for _, want := range []string{"IndexedDB (runs are kept only until the page closes", "Cache Storage (the MNIST digits", "Web Locks (", "the storage estimate ("} {
			if !strings.Contains(limits, want) {
				t.Errorf("the page's note %q does not mention %q", limits, want)
			}
		}
		p.poll(t, 10*time.Second, `document.querySelector('[data-panel=runs] [data-part=message]').textContent !== ''`)
		if msg := p.text(t, "[data-panel=runs] [data-part=message]"); msg != "Runs cannot be kept in this browser: this browser has no IndexedDB. They stay on this page until it closes." {
			t.Errorf("the Runs panel says %q", msg)
		}
		p.trainTiny(t)
		// The run's record ends after the page has said so: its weights are exported and offered
		// to the store (which refuses them here) first.
		p.poll(t, 10*time.Second, `window.__mnist.runs.length === 1 && window.__mnist.runs[0].status !== 'training'`)
		runs := eval[[]struct {
			Status string
			Kept   bool
		}](t, p, `window.__mnist.runs`)
		if len(runs) != 1 || runs[0].Status != "finished" || runs[0].Kept {
			t.Errorf("runs %+v, want one finished run, listed but not kept", runs)
		}
	})
}

// widths are the frames every panel must fit: phones (360, 390), the two-column layout at its
// narrowest (760) and where the report's support column was cut off (790), a small laptop (1024),
// and the three-column layout (1280), whose Train panel is as narrow as at 790. The engines'
// suite checks the same widths (browsers/scenarios.mjs).
var widths = []int64{360, 390, 760, 790, 1024, 1280}

func TestBrowserLayout(t *testing.T) {
	p := openBrowser(t)
	p.open(t, "?"+tinyRun)

	t.Run("nothing animates continuously while the page trains", func(t *testing.T) {
		p.click(t, "#train")
		p.poll(t, time.Minute, `document.body.classList.contains('training') && document.querySelector('#status').classList.contains('busy')`)
		// A CSS animation or transition that repeats for ever keeps the browser drawing every frame
		// (0.6 of a core when it composites in software); those that end are fine.
		endless := eval[[]string](t, p, `document.getAnimations()
			.filter((a) => a.playState === 'running' && a.effect && a.effect.getComputedTiming().iterations === Infinity)
			.map((a) => (a.animationName || a.transitionProperty || 'an animation') + ' on ' + (a.effect.target && (a.effect.target.id || a.effect.target.className)) + (a.effect.pseudoElement || ''))`)
		if len(endless) > 0 {
			t.Errorf("while training, endless animations run: %v", endless)
		}
		p.poll(t, 2*time.Minute, `!document.body.classList.contains('training') && !document.querySelector('#report').hidden`)
	})

	t.Run("every panel fits its frame at 360, 390, 760, 790, 1024 and 1280 px", func(t *testing.T) {
		defer p.do(t, chromedp.EmulateViewport(1280, 900))
		for _, w := range widths {
			p.do(t, chromedp.EmulateViewport(w, 900))
			p.poll(t, 5*time.Second, fmt.Sprintf(`window.innerWidth === %d`, w))
			eval[chromedp.Void](t, p, `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))`)
			// A panel wider inside than its box, a page wider than the window, a report table cut
			// off (it sits in a scroll box: the support column would need scrolling), or text cut
			// short, as the speed in the Train panel's stats was (testhooks.js, overflows).
			over := eval[[]string](t, p, `window.__mnist.overflows()`)
			if len(over) > 0 {
				t.Errorf("at %d px, too wide: %s", w, strings.Join(over, "; "))
			}
			support := eval[bool](t, p, `(() => {
				const cell = document.querySelector('#report thead th:last-child').getBoundingClientRect();
				const panel = document.querySelector('[data-panel=report]').getBoundingClientRect();
				return cell.width > 0 && cell.right <= panel.right;
			})()`)
			if !support {
				t.Errorf("at %d px, the report's support column is not within its panel", w)
			}
		}
		// Resizing logged nothing: the charts' ResizeObserver had, in every engine, as the plot
		// took its new width inside the observer's callback (web/chart.js).
		if errs := eval[[]string](t, p, `window.mnistBoot.errors.slice()`); len(errs) > 0 {
			t.Errorf("as the window was resized, the page logged uncaught errors: %q", errs)
		}
	})
}
