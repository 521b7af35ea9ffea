package pagetest

// Browser tests of the trainer in course pages (web/host.js, web/embed.js, protocol.md "The host
// page"): the host pages come from a second server on another 127.0.0.1 port, so the trainer is
// cross-origin to them as on a real course site, and a third origin plays a foreign page.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// hostServer serves pages, path -> HTML, on 127.0.0.1 (another origin than the trainer's).
func hostServer(tb testing.TB, pages map[string]string) *httptest.Server {
	tb.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	}))
	tb.Cleanup(s.Close)
	return s
}

// hostMessage is a message the host page got from a trainer frame (protocol.md).
type hostMessage struct {
	Frame    int
	T        float64
	Type     string
	Version  int
	Status   string
	Accuracy *float64
	MacroF1  *float64
	Message  string
	Code     string
	Key      string
	Command  string
	Settings map[string]string
	Height   float64
}

// served counts the requests for /data/name with status 200 in the server's log.
func served(log, name string) int {
	n := 0
	for _, r := range requests(log) {
		if r.path == "/data/"+name && r.status == http.StatusOK {
			n++
		}
	}
	return n
}

// workerTargets counts the browser's dedicated workers.
func (p *page) workerTargets(tb testing.TB) int {
	tb.Helper()
	r, err := chromedp.CallBrowser(p.ctx, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, t := range r.TargetInfos {
		if t.Type == "worker" {
			n++
		}
	}
	return n
}

func TestBrowserEmbed(t *testing.T) {
	p, srv := openBrowserLog(t)
	trainer := p.base
	run := "workers=1&" + recordRun
	foreign := hostServer(t, map[string]string{
		// A page of a third origin in the course page keeps telling the trainers to train.
		"/foreign.html": `<!doctype html><script>
			setInterval(() => { for (let i = 0; i < parent.frames.length; i++) parent.frames[i].postMessage({ target: 'mnist-trainer', command: 'train' }, '*'); }, 300);
			</script>`,
	})
	collect := fmt.Sprintf(`<script>
		window.__got = [];
		addEventListener('message', (e) => {
			const frames = [...document.querySelectorAll('iframe')];
			if (e.origin !== %[1]q || !e.data || e.data.source !== 'mnist-trainer' || e.data.type === 'height') return;
			__got.push({ frame: frames.findIndex((f) => f.contentWindow === e.source), t: performance.now(), ...e.data });
		});
		window.command = (i, command, settings) =>
			document.querySelectorAll('iframe')[i].contentWindow.postMessage({ target: 'mnist-trainer', command, settings }, %[1]q);
		</script>`, trainer)
	host := hostServer(t, map[string]string{
		"/two.html": fmt.Sprintf(`<!doctype html><title>Course page</title>%[4]s
			<script type="module" src="%[1]s/embed.js"></script>
			<iframe data-mnist-trainer src="%[1]s/?preset=notebook&%[2]s" style="width:100%%;border:0"></iframe>
			<iframe data-mnist-trainer src="%[1]s/?preset=half-filters&%[2]s" style="width:100%%;border:0"></iframe>
			<iframe src="%[3]s/foreign.html"></iframe>`, trainer, run, foreign.URL, collect),
		"/lock.html": fmt.Sprintf(`<!doctype html><title>Course page</title>%[3]s
			<iframe src="%[1]s/?preset=half-filters&lock=filters,kernel&%[2]s" style="width:100%%;height:900px;border:0"></iframe>`, trainer, run, collect),
		"/element.html": fmt.Sprintf(`<!doctype html><title>Course page</title>
			<script type="module" src="%[1]s/embed.js"></script>
			<mnist-trainer id="t" preset="half-filters" panels="train,loss,report" %[2]s></mnist-trainer>
			<script>
			window.__events = [];
			const el = document.getElementById('t');
			for (const type of ['ready', 'progress', 'epoch', 'finished', 'error', 'waiting']) el.addEventListener(type, (e) => __events.push({ type, ...e.detail }));
			</script>`, trainer, strings.NewReplacer("&", `" `, "=", `="`).Replace(run)+`"`),
	})
	got := func(t *testing.T) []hostMessage { return eval[[]hostMessage](t, p, `window.__got`) }
	of := func(msgs []hostMessage, frame int, typ string) []hostMessage {
		var out []hostMessage
		for _, m := range msgs {
			if m.Frame == frame && m.Type == typ {
				out = append(out, m)
			}
		}
		return out
	}

	t.Run("two iframes with different presets load, and each MNIST file is downloaded once", func(t *testing.T) {
		p.do(t, chromedp.Navigate(host.URL+"/two.html"))
		p.poll(t, time.Minute, `__got.filter((m) => m.type === 'ready').length === 2`)
		msgs := got(t)
		for i, filters := range []string{"32,64,128", "16,32,64"} {
			ready := of(msgs, i, "ready")
			if len(ready) != 1 || ready[0].Version != 1 || ready[0].Settings["filters"] != filters {
				t.Errorf("frame %d said ready as %+v; want version 1 and filters %s", i, ready, filters)
			}
		}
		log := srv.log()
		for _, f := range mnist.KnownFiles {
			if n := served(log, f.Name); n != 1 {
				t.Errorf("%s was served %d times, want once for both trainers", f.Name, n)
			}
		}
		// embed.js sizes the frames to their content.
		p.poll(t, 10*time.Second, `[...document.querySelectorAll('iframe[data-mnist-trainer]')].every((f) => f.getBoundingClientRect().height > 400)`)
	})

	t.Run("a foreign page's commands are ignored", func(t *testing.T) {
		time.Sleep(3 * time.Second) // the foreign page has sent its train command ten times by now
		for _, m := range got(t) {
			if m.Type != "ready" {
				t.Errorf("after the foreign page's commands, a trainer said %+v", m)
			}
		}
	})

	t.Run("the host's train starts a run; the second trainer waits for the first, then trains", func(t *testing.T) {
		eval[chromedp.Void](t, p, `command(0, 'train'); command(1, 'train')`)
		p.poll(t, 3*time.Minute, `__got.filter((m) => m.type === 'finished').length === 2`)
		msgs := got(t)
		for i := range 2 {
			fin := of(msgs, i, "finished")[0]
			if fin.Status != "finished" || fin.Accuracy == nil || !(*fin.Accuracy > 0.1) || fin.MacroF1 == nil || fin.Settings["train-images"] != "256" {
				t.Errorf("frame %d finished as %+v; want its accuracy, macro F1 and settings", i, fin)
			}
			if len(of(msgs, i, "progress")) == 0 || len(of(msgs, i, "epoch")) != 1 {
				t.Errorf("frame %d sent %d progress and %d epoch messages", i, len(of(msgs, i, "progress")), len(of(msgs, i, "epoch")))
			}
		}
		// Both were told at once: whichever took the browser's training lock first trains, and the
		// other says it waits and starts when the first has finished.
		w0, w1 := len(of(msgs, 0, "waiting")), len(of(msgs, 1, "waiting"))
		if w0+w1 != 1 {
			t.Fatalf("the trainers said waiting %d and %d times; want one of them once", w0, w1)
		}
		first, second := 0, 1
		if w0 == 1 {
			first, second = 1, 0
		}
		firstDone := of(msgs, first, "epoch")[0].T // its last message before it lets go of the lock
		secondStart := of(msgs, second, "progress")[0].T
		t.Logf("frame %d ended its epoch at %.0f ms; frame %d waited and started at %.0f ms", first, firstDone, second, secondStart)
		if secondStart < firstDone {
			t.Errorf("frame %d started at %.0f ms, before frame %d ended at %.0f ms", second, secondStart, first, firstDone)
		}
		for _, m := range msgs {
			if m.Type == "error" {
				t.Errorf("a trainer said %+v", m)
			}
		}
	})

	t.Run("lock= disables its controls, refuses a change by the host and a foreign weights file, and the unlocked settings change", func(t *testing.T) {
		p.open(t, "?preset=half-filters&lock=filters,kernel&"+run)
		state := eval[struct{ Filters, Kernel, Preset, Epochs bool }](t, p, `({
			Filters: document.querySelector('#f-filters').disabled, Kernel: document.querySelector('#f-kernel').disabled,
			Preset: document.querySelector('#preset').disabled, Epochs: document.querySelector('#f-epochs').disabled })`)
		if !state.Filters || !state.Kernel || !state.Preset || state.Epochs {
			t.Errorf("disabled controls %+v; want filters, kernel and preset disabled, epochs not", state)
		}
		if hint := p.text(t, "#f-filters-hint"); !strings.Contains(hint, "set by the course") {
			t.Errorf("the filters hint says %q", hint)
		}
		// The Embed dialog gives the code for these settings, lock included.
		p.click(t, "#embed")
		code := eval[struct{ Iframe, Element string }](t, p, `({ Iframe: document.querySelector('#embed-dialog [data-part="iframe"]').value,
			Element: document.querySelector('#embed-dialog [data-part="element"]').value })`)
		t.Logf("embed code:\n%s\n%s", code.Iframe, code.Element)
		if !strings.Contains(code.Iframe, "?preset=half-filters&") || !strings.Contains(code.Iframe, "lock=filters,kernel") ||
			!strings.Contains(code.Element, `<mnist-trainer preset="half-filters"`) || !strings.Contains(code.Element, trainer+"/embed.js") {
			t.Errorf("the embed code does not carry the page's settings:\n%s\n%s", code.Iframe, code.Element)
		}
		p.click(t, `#embed-dialog [data-part="close"]`)
		// The quick-run settings change the unlocked ones only.
		p.click(t, "#quick")
		p.poll(t, 5*time.Second, quickSettingsShown)
		if f := eval[string](t, p, `document.querySelector('#f-filters').value`); f != "16,32,64" {
			t.Errorf("filters became %q", f)
		}

		// A weights file of another network is refused, naming the locked setting; one of the
		// locked network loads.
		var half model.Config
		for _, pr := range model.Presets() {
			if pr.Name == "half-filters" {
				half = pr.Config
			}
		}
		foreignFile, _ := weightsFile(t, model.DefaultConfig(), "notebook.safetensors")
		p.do(t, chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{foreignFile}))
		p.poll(t, 20*time.Second, `document.querySelector('#weights-message').textContent !== ''`)
		if msg := p.text(t, "#weights-message"); !strings.Contains(msg, "filters: the course fixed it at 16,32,64, and this file's network has 32,64,128") {
			t.Errorf("importing the notebook network's weights says %q", msg)
		}
		halfFile, _ := weightsFile(t, half, "half.safetensors")
		p.do(t, chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{halfFile}))
		p.poll(t, 20*time.Second, `document.querySelector('#weights-message').textContent.startsWith('Loaded')`)

		// A lock that names no setting stops Train, with a message.
		p.load(t, "?lock=nonsense&"+run)
		if status := p.text(t, "#status"); !strings.HasPrefix(status, `Check the settings: lock: "nonsense" is not a setting`) {
			t.Errorf("lock=nonsense: status %q", status)
		}

		p.do(t, chromedp.Navigate(host.URL+"/lock.html"))
		p.poll(t, time.Minute, `__got.some((m) => m.type === 'ready')`)
		eval[chromedp.Void](t, p, `command(0, 'configure', { filters: '8,16,32' })`)
		p.poll(t, 10*time.Second, `__got.some((m) => m.type === 'error')`)
		refused := of(got(t), 0, "error")[0]
		t.Logf("configure filters: %+v", refused)
		if refused.Key != "filters" || refused.Code != "locked" || !strings.Contains(refused.Message, "the course fixed it at 16,32,64") {
			t.Errorf("a configure of a locked setting answered %+v", refused)
		}
		eval[chromedp.Void](t, p, `command(0, 'configure', { epochs: 2, lr: '0.001' })`)
		p.poll(t, 10*time.Second, `__got.some((m) => m.type === 'configured')`)
		if c := of(got(t), 0, "configured")[0]; c.Settings["epochs"] != "2" || c.Settings["lr"] != "0.001" || c.Settings["filters"] != "16,32,64" {
			t.Errorf("configured %+v", c.Settings)
		}
	})

	t.Run("<mnist-trainer> from another origin trains, and removing it ends its workers", func(t *testing.T) {
		before := p.workerTargets(t)
		p.do(t, chromedp.Navigate(host.URL+"/element.html"))
		p.poll(t, time.Minute, `__events.some((e) => e.type === 'ready')`)
		workers := p.workerTargets(t)
		eval[chromedp.Void](t, p, `document.getElementById('t').train()`)
		p.poll(t, 2*time.Minute, `__events.some((e) => e.type === 'finished')`)
		fin := eval[hostMessage](t, p, `__events.find((e) => e.type === 'finished')`)
		t.Logf("finished: accuracy %v; workers before %d, with the element %d", *fin.Accuracy, before, workers)
		if fin.Accuracy == nil || fin.Settings["filters"] != "16,32,64" {
			t.Errorf("the element's finished event %+v", fin)
		}
		if workers < 1 {
			t.Fatalf("the element runs %d workers", workers)
		}
		eval[chromedp.Void](t, p, `document.getElementById('t').remove()`)
		deadline := time.Now().Add(10 * time.Second)
		for p.workerTargets(t) >= workers {
			if time.Now().After(deadline) {
				t.Fatalf("%d workers still run after the element was removed (%d with it)", p.workerTargets(t), workers)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
