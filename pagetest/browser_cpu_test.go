package pagetest

// What the page itself costs while it trains, in headless Chromium: a benchmark, run only with
// BENCH=1, one JSON line per figure:
//
//	BENCH=1 go test -count=1 -run '^TestBrowserBenchPageCPU$' -v ./pagetest | grep '^{'

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/mnist-trainer/mnist/internal/benchfig"
)

// clockTicks is the unit of utime and stime in /proc (USER_HZ, 100 on Linux).
const clockTicks = 100

// threadCPU returns the CPU seconds of the threads of process pid, by kind: "main" (the
// renderer's main thread: the page's scripts, style, layout, paint), "workers" (Web Workers'
// threads) and "other" (compositor, raster, IO…).
func threadCPU(pid int) map[string]float64 {
	out := map[string]float64{}
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*"))
	for _, task := range tasks {
		stat, err := os.ReadFile(filepath.Join(task, "stat"))
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(task, "comm"))
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		kind := "other"
		switch name := strings.TrimSpace(string(comm)); {
		case filepath.Base(task) == strconv.Itoa(pid):
			kind = "main"
		case strings.Contains(name, "Worker") && !strings.Contains(name, "Compositor"):
			kind = "workers"
		}
		out[kind] += (utime + stime) / clockTicks
	}
	return out
}

// browserProcesses returns the pids of the browser's processes of a type (--type=renderer,
// --type=gpu-process).
func browserProcesses(p *page, kind string) []int {
	c := chromedp.FromContext(p.ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return nil
	}
	browserPID := c.Browser.Process().Pid
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err == nil && strings.Contains(string(cmdline), "--type="+kind) && descendsFrom(dir, browserPID) {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuSample is the CPU seconds of the renderer that trains (by thread kind) and of the GPU
// process, and the main thread's task time as Chromium counts it (Performance.getMetrics).
type cpuSample struct {
	renderer map[string]float64
	gpu      float64
	tasks    float64
	at       time.Time
}

func sampleCPU(tb testing.TB, p *page) cpuSample {
	tb.Helper()
	s := cpuSample{renderer: map[string]float64{}, at: time.Now()}
	for _, pid := range browserProcesses(p, "renderer") {
		// The renderer of the page is the one whose workers train.
		if cpu := threadCPU(pid); cpu["workers"] > s.renderer["workers"] {
			s.renderer = cpu
		}
	}
	for _, pid := range browserProcesses(p, "gpu-process") {
		for _, v := range threadCPU(pid) {
			s.gpu += v
		}
	}
	metrics, err := chromedp.Call(p.ctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range metrics.Metrics {
		if m.Name == "TaskDuration" {
			s.tasks = m.Value
		}
	}
	return s
}

// pulse is the status dot as it was until 2026-12: a continuous CSS animation. The benchmark puts
// it back (a constructed style sheet, which the page's CSP allows) to show what it cost.
const pulse = `(() => {
	const s = new CSSStyleSheet();
	s.replaceSync('#status.busy::before { animation: pulse 1.2s ease-in-out infinite; } @keyframes pulse { 50% { opacity: 0.25; } }');
	document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];
})()`

func TestBrowserBenchPageCPU(t *testing.T) {
	if os.Getenv("BENCH") == "" {
		t.Skip("a benchmark, not a test: BENCH=1 go test -run TestBrowserBenchPageCPU -v ./pagetest")
	}
	const settle, measure = 8 * time.Second, 20 * time.Second
	emit := benchfig.Writer{W: os.Stdout, Backend: "wasm (Chromium)"}.Emit
	p := openBrowser(t)
	for _, c := range []struct{ name, figure, setup string }{
		{"the page as it is", "page", ""},
		{"with the old pulsing status dot", "page_pulsing_dot", pulse},
	} {
		p.open(t, "?epochs=1")
		if _, err := chromedp.Call(p.ctx, performance.Enable, performance.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if c.setup != "" {
			eval[chromedp.Void](t, p, c.setup)
		}
		workers := eval[int](t, p, `window.__mnist.workers`)
		p.click(t, "#train")
		time.Sleep(settle)
		before := sampleCPU(t, p)
		time.Sleep(measure)
		after := sampleCPU(t, p)
		if !eval[bool](t, p, `document.body.classList.contains('training')`) {
			t.Fatalf("%s: the run ended before the measurement did", c.name)
		}
		p.click(t, "#stop")
		p.poll(t, time.Minute, `!document.body.classList.contains('training')`)
		wall := after.at.Sub(before.at).Seconds()
		share := func(a, b float64) float64 { return 100 * (a - b) / wall }
		main := share(after.renderer["main"], before.renderer["main"])
		other := share(after.renderer["other"], before.renderer["other"])
		gpu := share(after.gpu, before.gpu)
		tasks := share(after.tasks, before.tasks)
		train := share(after.renderer["workers"], before.renderer["workers"])
		t.Logf("%s, over %.0f s of training: renderer main thread %.1f%% of a core (its tasks %.1f%%), the renderer's other threads %.1f%%, the GPU process %.1f%%; the %d workers %.0f%%",
			c.name, wall, main, tasks, other, gpu, workers, train)
		emit(c.figure+"_main_thread_cpu", main, "% of a core", 0, workers)
		emit(c.figure+"_main_thread_tasks", tasks, "% of a core", 0, workers)
		emit(c.figure+"_renderer_other_threads_cpu", other, "% of a core", 0, workers)
		emit(c.figure+"_gpu_process_cpu", gpu, "% of a core", 0, workers)
	}
}
