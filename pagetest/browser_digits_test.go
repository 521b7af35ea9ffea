package pagetest

// Browser tests of My digits (web/mydigits.js, web/digitspanel.js, web/digitstore.js): a
// student's own digits, drawn on the pad with real pointer input, labelled with the panel's
// buttons and the keyboard, kept in IndexedDB across a reload, tested after an epoch, exported
// as IDX files that the model's parser reads natively, imported into a fresh profile, mixed into
// training there from a course page that locks the setting, and a bad file refused with its message.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mnist-trainer/mnist/mnist"
)

var saveDigits = flag.Bool("save-digits", false, "TestBrowserMyDigits: write the digits it draws to cmd/train/testdata/my-digits, "+
	"the set the native trainer's test and the README's figures use")

// digitStrokes are the pen strokes of each digit, as fractions of the pad (x right, y down): one
// hand's way of writing them. drawDigit varies them a little each time.
var digitStrokes = [10][][][2]float64{
	{ellipse(0.5, 0.5, 0.2, 0.32)},
	{{{0.4, 0.28}, {0.52, 0.17}, {0.52, 0.83}}},
	{{{0.3, 0.32}, {0.38, 0.2}, {0.55, 0.16}, {0.68, 0.25}, {0.68, 0.38}, {0.55, 0.52}, {0.3, 0.8}, {0.74, 0.8}}},
	{{{0.3, 0.22}, {0.55, 0.16}, {0.68, 0.27}, {0.6, 0.44}, {0.44, 0.48}, {0.62, 0.52}, {0.7, 0.65}, {0.6, 0.8}, {0.3, 0.78}}},
	{{{0.58, 0.83}, {0.58, 0.17}, {0.28, 0.6}, {0.76, 0.6}}},
	{{{0.68, 0.19}, {0.36, 0.19}, {0.33, 0.45}, {0.55, 0.41}, {0.69, 0.55}, {0.66, 0.75}, {0.5, 0.83}, {0.3, 0.76}}},
	{{{0.63, 0.17}, {0.45, 0.3}, {0.34, 0.55}, {0.36, 0.75}, {0.5, 0.83}, {0.65, 0.73}, {0.64, 0.55}, {0.48, 0.5}, {0.35, 0.58}}},
	{{{0.25, 0.2}, {0.45, 0.2}, {0.7, 0.2}, {0.62, 0.4}, {0.55, 0.6}, {0.48, 0.82}}},
	{{{0.5, 0.5}, {0.36, 0.39}, {0.38, 0.22}, {0.5, 0.16}, {0.62, 0.22}, {0.64, 0.38}, {0.5, 0.5}, {0.34, 0.63}, {0.36, 0.8}, {0.5, 0.85}, {0.64, 0.8}, {0.66, 0.63}, {0.5, 0.5}}},
	{{{0.65, 0.35}, {0.56, 0.2}, {0.41, 0.21}, {0.33, 0.34}, {0.4, 0.48}, {0.56, 0.47}, {0.65, 0.35}, {0.63, 0.6}, {0.58, 0.84}}},
}

// ellipse is a closed stroke around (cx, cy).
func ellipse(cx, cy, rx, ry float64) [][2]float64 {
	var pts [][2]float64
	for i := 0; i <= 16; i++ {
		a := 2 * math.Pi * float64(i) / 16
		pts = append(pts, [2]float64{cx + rx*math.Sin(a), cy - ry*math.Cos(a)})
	}
	return pts
}

// drawDigit draws digit on the pad, each time a little differently (placed, sized and slanted
// by rng, with a trembling hand), with mouse events that the browser turns into the pointer
// events the pad listens to.
func (p *page) drawDigit(tb testing.TB, digit int, rng *rand.Rand) {
	tb.Helper()
	dx, dy := (rng.Float64()-0.5)*0.12, (rng.Float64()-0.5)*0.12
	scale, slant := 0.85+rng.Float64()*0.25, (rng.Float64()-0.5)*0.3
	var strokes [][][2]float64
	for _, s := range digitStrokes[digit] {
		var pts [][2]float64
		for _, pt := range s {
			x, y := pt[0]-0.5, pt[1]-0.5
			x += slant * -y
			pts = append(pts, [2]float64{0.5 + dx + scale*x + (rng.Float64()-0.5)*0.02, 0.5 + dy + scale*y + (rng.Float64()-0.5)*0.02})
		}
		strokes = append(strokes, pts)
	}
	p.drawStrokes(tb, strokes)
}

// canvasLevels returns the grey levels of the canvas sel (its red channel: the pad's images are grey).
func (p *page) canvasLevels(tb testing.TB, sel string) []byte {
	tb.Helper()
	levels := eval[[]int](tb, p, fmt.Sprintf(`(() => {
		const c = document.querySelector(%q);
		return [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((_, i) => i %% 4 === 0)];
	})()`, sel))
	out := make([]byte, len(levels))
	for i, v := range levels {
		out[i] = byte(v)
	}
	return out
}

// digitsView is window.__mnist.digits.
type digitsView struct {
	Count  int
	Counts []int
	Rows   []struct {
		ID    string
		Label int
		Kept  bool
		Mark  *int
	}
	Tested int
}

func (p *page) digits(tb testing.TB) digitsView {
	tb.Helper()
	return eval[digitsView](tb, p, `window.__mnist.digits`)
}

const digitsPanel = `[data-panel="digits"]`

func (p *page) digitsMessage(tb testing.TB) string {
	tb.Helper()
	return p.text(tb, digitsPanel+` [data-part="message"]`)
}

// drawnDigit is a digit the test drew: its label, and what the network saw (the pad's preview).
type drawnDigit struct {
	label  int
	pixels []byte
}

// importDigits chooses files in the panel's Import and waits for its message.
func (p *page) importDigits(tb testing.TB, files ...string) string {
	tb.Helper()
	eval[chromedp.Void](tb, p, fmt.Sprintf(`document.querySelector('%s [data-part="message"]').textContent = ''`, digitsPanel))
	p.do(tb, chromedp.SetUploadFiles(chromedp.CSS(digitsPanel+` [data-part="import"]`), files))
	p.poll(tb, 20*time.Second, fmt.Sprintf(`document.querySelector('%s [data-part="message"]').textContent !== ''`, digitsPanel))
	return p.digitsMessage(tb)
}

// The page of the first profile: a short run, and the test images' evaluation of 500.
const digitsRun = "?workers=2&" + shortRun

func TestBrowserMyDigits(t *testing.T) {
	p := openBrowser(t)
	p.open(t, digitsRun)
	rng := rand.New(rand.NewPCG(20, 20))

	// Three of each digit, in an order a student might draw them.
	var order []int
	for range 3 {
		order = append(order, rng.Perm(10)...)
	}
	var drawn []drawnDigit
	if !t.Run("30 digits drawn on the pad and labelled by button and by key go to My digits", func(t *testing.T) {
		for i, label := range order {
			_, before := p.probabilities(t)
			p.drawDigit(t, label, rng)
			p.waitForPrediction(t, before)
			seen := p.canvasLevels(t, "#pad-preview")
			if i%2 == 0 {
				p.do(t, chromedp.KeyEvent(strconv.Itoa(label)))
			} else {
				p.click(t, fmt.Sprintf(`%s [data-part="labels"] button[data-label="%d"]`, digitsPanel, label))
			}
			// The panel says so, with how many of that digit there are, and what the network read.
			n := 1 + len(slices.DeleteFunc(slices.Clone(drawn), func(d drawnDigit) bool { return d.label != label }))
			added := fmt.Sprintf("Added your %d (%d of 5). The network reads it", label, n)
			p.poll(t, 10*time.Second, fmt.Sprintf(`window.__mnist.digits.count === %d &&
				document.querySelector('%s [data-part="message"]').textContent.startsWith(%q)`, i+1, digitsPanel, added))
			drawn = append(drawn, drawnDigit{label, seen})
		}
		v := p.digits(t)
		if !slices.Equal(v.Counts, []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}) {
			t.Errorf("counts per digit %v, want 3 of each", v.Counts)
		}
		for i, r := range v.Rows {
			if r.Label != order[i] || !r.Kept {
				t.Errorf("digit %d: label %d, kept %v; want %d, kept", i, r.Label, r.Kept, order[i])
			}
		}
		// The gallery shows them by digit with a count each, and the progress toward 5 of each.
		heads := eval[[]string](t, p, fmt.Sprintf(`[...document.querySelectorAll('%s .digit-row-head')].map((h) => h.textContent)`, digitsPanel))
		if len(heads) != 10 || heads[7] != "7 3/5" {
			t.Errorf("gallery rows %q, want \"7 3/5\" for the 7s", heads)
		}
		if got := eval[int](t, p, fmt.Sprintf(`document.querySelectorAll('%s .my-digit canvas').length`, digitsPanel)); got != 30 {
			t.Errorf("the gallery shows %d digits", got)
		}
		progress := p.text(t, digitsPanel+` [data-part="progress-text"]`)
		next := p.text(t, digitsPanel+` [data-part="next"]`)
		if progress != "30 of 50" || next != "Next: draw a 0 (you have 3 of 5)." {
			t.Errorf("progress %q, next %q", progress, next)
		}
		// A key pressed with nothing drawn, or while typing a setting, adds nothing.
		p.do(t, chromedp.KeyEvent("4"))
		p.do(t, chromedp.Focus(chromedp.CSS("#f-seed")), chromedp.KeyEvent("5"))
		eval[chromedp.Void](t, p, `document.activeElement.blur()`)
		time.Sleep(300 * time.Millisecond)
		if n := p.digits(t).Count; n != 30 {
			t.Errorf("%d digits after keys pressed with nothing drawn and in a setting", n)
		}
		eval[chromedp.Void](t, p, `document.querySelector('#f-seed').value = '1'`)
	}) {
		t.FailNow()
	}

	t.Run("after a reload they are kept", func(t *testing.T) {
		before := p.digits(t)
		p.open(t, digitsRun)
		p.poll(t, 10*time.Second, `window.__mnist.digits.count === 30`)
		after := p.digits(t)
		for i := range after.Rows {
			if after.Rows[i].ID != before.Rows[i].ID || after.Rows[i].Label != before.Rows[i].Label {
				t.Fatalf("digit %d is %+v after the reload, %+v before", i, after.Rows[i], before.Rows[i])
			}
		}
		// The first digit's thumbnail is the image the network saw when it was drawn.
		first := p.canvasLevels(t, fmt.Sprintf(`%s .digit-row[data-label="%d"] canvas`, digitsPanel, order[0]))
		if !bytes.Equal(first, drawn[0].pixels) {
			t.Error("the gallery's first digit is not the drawing as the network saw it")
		}
	})

	var accuracy float64
	if !t.Run("the accuracy on them shows after an epoch, beside MNIST's, and misread digits stand out", func(t *testing.T) {
		p.trainAndRecord(t, 1)
		p.poll(t, 10*time.Second, `window.__mnist.digits.tested === 30`)
		result := p.text(t, digitsPanel+` [data-part="result"]`)
		t.Logf("%s", result)
		var correct int
		var pct, mnist float64
		if _, err := fmt.Sscanf(result, "After epoch 1 of 1: %f%% of My digits read right (%d of 30), beside %f%% on MNIST’s test images.",
			&pct, &correct, &mnist); err != nil {
			t.Fatalf("the result says %q: %v", result, err)
		}
		accuracy = float64(correct) / 30
		misread := 0
		for _, r := range p.digits(t).Rows {
			if r.Mark == nil {
				t.Fatalf("digit %s has no mark after the epoch", r.ID)
			}
			if *r.Mark != r.Label {
				misread++
			}
		}
		shown := eval[int](t, p, fmt.Sprintf(`document.querySelectorAll('%s .my-digit.misread').length`, digitsPanel))
		if misread != 30-correct || shown != misread {
			t.Errorf("%d read right, %d marks wrong, %d shown as misread", correct, misread, shown)
		}
		// Their own confusion matrix: its cells add up to the 30 digits, its diagonal to those read right.
		cells := eval[[][]string](t, p, fmt.Sprintf(`[...document.querySelectorAll('%s [data-part="matrix"] tbody tr')].map((tr) => [...tr.cells].slice(1).map((c) => c.textContent))`, digitsPanel))
		total, diagonal := 0, 0
		for i, row := range cells {
			for j, c := range row {
				n, _ := strconv.Atoi(c)
				total += n
				if i == j {
					diagonal += n
				}
			}
		}
		if len(cells) != 10 || total != 30 || diagonal != correct {
			t.Errorf("the matrix has %d rows adding up to %d, %d on the diagonal", len(cells), total, diagonal)
		}
		// On demand, the same model gives the same result.
		p.click(t, digitsPanel+` [data-part="test"]`)
		p.poll(t, 20*time.Second, fmt.Sprintf(`document.querySelector('%s [data-part="result"]').textContent.startsWith('Tested now')`, digitsPanel))
		if again := p.text(t, digitsPanel+` [data-part="result"]`); !strings.Contains(again, fmt.Sprintf("(%d of 30)", correct)) {
			t.Errorf("tested again: %q", again)
		}
	}) {
		t.FailNow()
	}

	if *screenshot {
		t.Run("screenshot", func(t *testing.T) { saveDigitsScreenshot(t, p) })
	}

	var files []string
	t.Run("export gives IDX files that the model's parser reads: the pixels the network saw, and the labels", func(t *testing.T) {
		for _, name := range []string{mnist.MyDigitsImagesFile, mnist.MyDigitsLabelsFile} {
			os.Remove(filepath.Join(p.downloads, name))
		}
		p.click(t, digitsPanel+` [data-part="export"]`)
		var images, labels []byte
		deadline := time.Now().Add(20 * time.Second)
		for {
			var err1, err2 error
			images, err1 = os.ReadFile(filepath.Join(p.downloads, mnist.MyDigitsImagesFile))
			labels, err2 = os.ReadFile(filepath.Join(p.downloads, mnist.MyDigitsLabelsFile))
			if err1 == nil && err2 == nil && len(images) > 0 && len(labels) > 0 && strings.HasPrefix(p.digitsMessage(t), "Exported 30 digits") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no downloads: %v, %v (%q)", err1, err2, p.digitsMessage(t))
			}
			time.Sleep(100 * time.Millisecond)
		}
		pix, n, _, _, err := mnist.ParseImages(bytes.NewReader(images))
		if err != nil {
			t.Fatal(err)
		}
		labs, err := mnist.ParseLabels(bytes.NewReader(labels))
		if err != nil {
			t.Fatal(err)
		}
		if n != 30 || len(labs) != 30 {
			t.Fatalf("%d images and %d labels, want 30", n, len(labs))
		}
		for i, d := range drawn {
			if int(labs[i]) != d.label || !bytes.Equal(pix[i*784:(i+1)*784], d.pixels) {
				t.Errorf("digit %d: label %d (want %d), pixels the same as the preview: %v", i, labs[i], d.label, bytes.Equal(pix[i*784:(i+1)*784], d.pixels))
			}
		}
		files = []string{filepath.Join(p.downloads, mnist.MyDigitsImagesFile), filepath.Join(p.downloads, mnist.MyDigitsLabelsFile)}
		if *saveDigits {
			for _, f := range files {
				if err := os.WriteFile(filepath.Join("../cmd/train/testdata/my-digits", filepath.Base(f)), readFile(t, f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	})

	t.Run("a second run with them mixed in is compared with the first, on MNIST and on My digits", func(t *testing.T) {
		p.do(t, chromedp.Evaluate[chromedp.Void](`document.querySelector('#f-mix-digits').select()`), chromedp.KeyEvent("2"))
		p.poll(t, 10*time.Second, `document.querySelector('#f-mix-digits').value === '2' && document.querySelector('#estimate').textContent.startsWith('1 × 17 steps')`)
		mixed := p.trainAndRecord(t, 2)
		if steps := eval[int](t, p, `window.__mnist.chart.steps.length`); steps != 17 {
			t.Errorf("the mixed run trained %d steps, want (512 + 2 × 30) / 32 = 17", steps)
		}
		ids := []string{mixed.ID, p.runs(t)[1].ID}
		for _, id := range ids {
			p.click(t, fmt.Sprintf(`tr[data-id=%q] input.run-select`, id))
		}
		p.click(t, `[data-panel="runs"] [data-part="compare"]`)
		p.poll(t, 10*time.Second, `window.__mnist.compare.rows === 2`)
		rows := eval[[][]string](t, p, `[...document.querySelectorAll('[data-panel="compare"] [data-part="table"] tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent))`)
		head := eval[[]string](t, p, `[...document.querySelectorAll('[data-panel="compare"] [data-part="table"] thead th')].map((th) => th.textContent)`)
		t.Logf("compared: %q\n%q", head[:4], rows)
		if !slices.Equal(head[1:4], []string{"test accuracy", "My digits", "mixed in"}) {
			t.Fatalf("the comparison's columns %q", head)
		}
		if !strings.HasSuffix(rows[0][2], "% of 30") || rows[0][3] != "×2" || !strings.HasSuffix(rows[1][2], "% of 30") || rows[1][3] != "no" {
			t.Errorf("the comparison shows My digits %q and %q", rows[0][1:4], rows[1][1:4])
		}
		if want := fmt.Sprintf("%.1f%% of 30", 100*accuracy); rows[1][2] != want {
			t.Errorf("the first run shows %q on My digits, want %s", rows[1][2], want)
		}
	})

	t.Run("in a fresh profile they import, and a course page trains with them mixed in, its setting locked", func(t *testing.T) {
		if files == nil {
			t.Skip("needs the exported files")
		}
		fresh := newBrowser(t, p.base)
		course := "?workers=2&panels=train,loss,draw,digits,runs&lock=mix-digits&mix-digits=2&" + shortRun
		fresh.open(t, course)
		if n := fresh.digits(t).Count; n != 0 {
			t.Fatalf("a fresh profile has %d digits", n)
		}
		// The panels the course asked for, the digits among them; the setting is fixed.
		shown := eval[[]string](t, fresh, `[...document.querySelectorAll('[data-panel]')].filter((s) => !s.hidden).map((s) => s.dataset.panel)`)
		if !slices.Equal(shown, []string{"train", "loss", "runs", "draw", "digits"}) {
			t.Errorf("panels shown %q", shown)
		}
		if !eval[bool](t, fresh, `document.querySelector('#f-mix-digits').disabled && document.querySelector('#f-mix-digits').value === '2'`) ||
			!strings.Contains(fresh.text(t, "#f-mix-digits-hint"), "set by the course") {
			t.Error("the mix-digits control is not fixed at 2 by the course")
		}

		// Bad files: each gets its message (mnist.LoadIDXPair's, naming the file), and nothing changes.
		dir := t.TempDir()
		goodImages, goodLabels := readFile(t, files[0]), readFile(t, files[1])
		// An uncompressed labels file (magic 0x801, 30 labels) whose eighth label is 12.
		badLabels := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0x801), 30)
		badLabels = append(badLabels, make([]byte, 30)...)
		badLabels[8+7] = 12
		for _, c := range []struct {
			what  string
			files map[string][]byte
		}{
			{"a label of 12", map[string][]byte{"images.gz": goodImages, "labels-12": badLabels}},
			{"truncated images", map[string][]byte{"cut-images.gz": goodImages[:len(goodImages)/2], "labels.gz": goodLabels}},
			{"a picture", map[string][]byte{"photo.png": pngBytes(t), "labels.gz": goodLabels}},
			{"one file", map[string][]byte{"images.gz": goodImages}},
		} {
			var paths []string
			var idx []mnist.IDXFile
			for name, data := range c.files {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, path)
				idx = append(idx, mnist.IDXFile{Name: name, Data: data})
			}
			slices.Sort(paths) // the order the file chooser gives them in
			msg := fresh.importDigits(t, paths...)
			t.Logf("%s: %s", c.what, msg)
			names := make([]string, len(paths))
			for i, path := range paths {
				names[i] = filepath.Base(path)
			}
			var want string
			if len(idx) == 2 {
				_, err := mnist.LoadIDXPair(mnist.IDXFile{Name: names[0], Data: c.files[names[0]]}, mnist.IDXFile{Name: names[1], Data: c.files[names[1]]})
				want = err.Error()
			} else {
				want = "choose two files, the images (my-digits-images-idx3-ubyte.gz) and their labels (my-digits-labels-idx1-ubyte.gz); you chose 1"
			}
			if want = fmt.Sprintf("Could not import %s: %s. My digits are unchanged.", strings.Join(names, " and "), want); msg != want {
				t.Errorf("%s: the panel says\n\t%s\nwant\n\t%s", c.what, msg, want)
			}
			if n := fresh.digits(t).Count; n != 0 {
				t.Errorf("%s: %d digits after the refusal", c.what, n)
			}
		}

		msg := fresh.importDigits(t, files...)
		if !strings.HasPrefix(msg, "Imported 30 digits from my-digits-images-idx3-ubyte.gz and my-digits-labels-idx1-ubyte.gz (3 × 0, 3 × 1,") {
			t.Errorf("after the import the panel says %q", msg)
		}
		v := fresh.digits(t)
		for i, r := range v.Rows {
			if r.Label != drawn[i].label {
				t.Fatalf("imported digit %d is a %d, want %d", i, r.Label, drawn[i].label)
			}
		}

		// The course page frames the trainer, which keeps the digits (same site), and trains it.
		host := hostServer(t, map[string]string{"/course.html": fmt.Sprintf(`<!doctype html><title>Course page</title>
			<script>
			window.__got = [];
			addEventListener('message', (e) => { if (e.data && e.data.source === 'mnist-trainer' && e.data.type !== 'height') __got.push(e.data); });
			window.command = (command, settings) => document.querySelector('iframe').contentWindow.postMessage({ target: 'mnist-trainer', command, settings }, %[1]q);
			</script>
			<iframe src="%[1]s/%[2]s" style="width:100%%;height:900px;border:0"></iframe>`, fresh.base, course)})
		fresh.do(t, chromedp.Navigate(host.URL+"/course.html"))
		fresh.poll(t, time.Minute, `__got.some((m) => m.type === 'ready')`)
		eval[chromedp.Void](t, fresh, `command('configure', {'mix-digits': '0'})`)
		fresh.poll(t, 10*time.Second, `__got.some((m) => m.type === 'error')`)
		eval[chromedp.Void](t, fresh, `command('train')`)
		fresh.poll(t, 3*time.Minute, `__got.some((m) => m.type === 'finished')`)
		got := eval[[]map[string]any](t, fresh, `__got`)
		var digits, refused map[string]any
		steps := 0.0
		for _, m := range got {
			switch m["type"] {
			case "digits":
				digits = m
			case "error":
				refused = m
			case "progress":
				steps = m["steps"].(float64)
			}
		}
		t.Logf("host got %v; refused %v", digits, refused)
		if refused == nil || refused["key"] != "mix-digits" {
			t.Errorf("configure mix-digits=0 in a page that locks it: %v, want an error with key mix-digits", refused)
		}
		if steps != 17 {
			t.Errorf("the course page's run has %v steps, want 17: 512 images and 2 copies of 30 digits, in batches of 32", steps)
		}
		if digits == nil {
			t.Fatal("the host got no digits message")
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range digits {
				if !yield(k) {
					return
				}
			}
		})
		if want := []string{"accuracy", "correct", "count", "epoch", "mixDigits", "source", "type", "version", "when"}; !slices.Equal(keys, want) {
			t.Errorf("the digits message has %q, want %q and no images", keys, want)
		}
		if digits["count"] != 30.0 || digits["when"] != "epoch" || digits["mixDigits"] != 2.0 {
			t.Errorf("digits message %v", digits)
		}
		if b, _ := json.Marshal(got); bytes.Contains(b, []byte("pixels")) || len(b) > 20000 {
			t.Errorf("the host's messages hold %d bytes; images must not leave the page", len(b))
		}
	})
}

// pngBytes is a small PNG picture: a file a student might pick by mistake.
func pngBytes(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// saveDigitsScreenshot writes docs/mydigits.png: the My digits panel after the digits were tested.
func saveDigitsScreenshot(tb testing.TB, p *page) {
	tb.Helper()
	p.do(tb, chromedp.ScrollIntoView(chromedp.CSS(digitsPanel)))
	eval[chromedp.Void](tb, p, `new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))`)
	shot, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(digitsPanel)))
	if err != nil {
		tb.Fatal(err)
	}
	savePicture(tb, "mydigits.png", shot, func(full image.Rectangle) image.Rectangle { return full })
}
