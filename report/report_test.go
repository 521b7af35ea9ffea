package report

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Fixed example over 5 classes. Pairs (true, predicted), in order:
//
//	(0,0) (1,1) (2,2) (3,0)  (0,0) (1,1) (2,2) (3,2)
//	(0,0) (1,1) (2,2) (3,2)  (0,0) (1,1) (2,2) (3,4)
//	(0,1) (1,1) (2,1) (0,4)  (1,0) (2,4) (1,2) (2,2)
//
// Confusion matrix (rows true, columns predicted), counted by hand:
//
//	true 0: [4 1 0 0 1]  support 6
//	true 1: [1 5 1 0 0]  support 7
//	true 2: [0 1 5 0 1]  support 7
//	true 3: [1 0 2 0 1]  support 4   (class 3 is never predicted)
//	true 4: [0 0 0 0 0]  support 0   (class 4 never occurs in the labels)
//	column sums (predicted counts): 6 7 8 0 3; total 24; trace 4+5+5 = 14.
//
// Per class, tp / fp (column sum - tp) / fn (row sum - tp):
//
//	0: tp 4 fp 2 fn 2  P 4/6 = .6667  R 4/6 = .6667  F1 8/12 = .6667 -> 0.67 0.67 0.67
//	1: tp 5 fp 2 fn 2  P 5/7 = .7143  R 5/7 = .7143  F1 10/14 = .7143 -> 0.71 0.71 0.71
//	2: tp 5 fp 3 fn 2  P 5/8 = .625   R 5/7 = .7143  F1 10/15 = .6667 -> 0.62 0.71 0.67
//	   (.625 is exact in binary; Python's '{:.2f}' rounds the tie to even: 0.62)
//	3: tp 0 fp 0 fn 4  P 0/0 -> 0 (zero_division)  R 0/4 = 0  F1 0/4 = 0
//	4: tp 0 fp 3 fn 0  P 0/3 = 0  R 0/0 -> 0 (zero_division)  F1 0/3 = 0
//
// accuracy = 14/24 = .58333 -> 0.58
// macro avg (sum over 5 classes / 5):
//
//	P (2/3 + 5/7 + 5/8) / 5 = 2.00595/5 = .40119 -> 0.40
//	R (2/3 + 5/7 + 5/7) / 5 = 2.09524/5 = .41905 -> 0.42
//	F (2/3 + 5/7 + 2/3) / 5 = 2.04762/5 = .40952 -> 0.41
//
// weighted avg (weights = support 6, 7, 7, 4, 0; total 24):
//
//	P (6*2/3 + 7*5/7 + 7*5/8) / 24 = (4 + 5 + 4.375)/24 = 13.375/24 = .55729 -> 0.56
//	R (4 + 5 + 5)/24 = 14/24 = .58333 -> 0.58 (= accuracy)
//	F (6*2/3 + 7*5/7 + 7*2/3)/24 = (4 + 5 + 4.6667)/24 = .56944 -> 0.57
var (
	fixedLabels      = []int{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 1, 2, 1, 2}
	fixedPredictions = []int{0, 1, 2, 0, 0, 1, 2, 2, 0, 1, 2, 2, 0, 1, 2, 4, 1, 1, 1, 4, 0, 4, 2, 2}
)

// Worked out by hand from sklearn's format strings with width = 12
// (len("weighted avg")): header '{:>12s} ' + ' {:>9}'*4 then "\n\n";
// rows '{:>12s} ' + ' {:>9.2f}'*3 + ' {:>9}\n'; "\n"; accuracy row
// '{:>12s} ' + ' {:>9.2}'*2 (blank) + ' {:>9.2f}' + ' {:>9}\n'; then the
// two average rows. The report ends with the newline of the last row.
const fixedReportText = `              precision    recall  f1-score   support

           0       0.67      0.67      0.67         6
           1       0.71      0.71      0.71         7
           2       0.62      0.71      0.67         7
           3       0.00      0.00      0.00         4
           4       0.00      0.00      0.00         0

    accuracy                           0.58        24
   macro avg       0.40      0.42      0.41        24
weighted avg       0.56      0.58      0.57        24
`

// Same data with digits=4 (width stays 12):
// .66667->0.6667, .71429->0.7143, .625->0.6250, .40119->0.4012,
// .41905->0.4190, .40952->0.4095, .55729->0.5573, .58333->0.5833,
// .56944->0.5694.
const fixedReportText4 = `              precision    recall  f1-score   support

           0     0.6667    0.6667    0.6667         6
           1     0.7143    0.7143    0.7143         7
           2     0.6250    0.7143    0.6667         7
           3     0.0000    0.0000    0.0000         4
           4     0.0000    0.0000    0.0000         0

    accuracy                         0.5833        24
   macro avg     0.4012    0.4190    0.4095        24
weighted avg     0.5573    0.5833    0.5694        24
`

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestConfusionMatrixFixed(t *testing.T) {
	m, err := NewConfusionMatrix(5, fixedLabels, fixedPredictions)
	if err != nil {
		t.Fatal(err)
	}
	want := ConfusionMatrix{
		{4, 1, 0, 0, 1},
		{1, 5, 1, 0, 0},
		{0, 1, 5, 0, 1},
		{1, 0, 2, 0, 1},
		{0, 0, 0, 0, 0},
	}
	for i := range want {
		for j := range want[i] {
			if m[i][j] != want[i][j] {
				t.Fatalf("m[%d][%d] = %d, want %d; matrix %v", i, j, m[i][j], want[i][j], m)
			}
		}
	}
}

func TestReportFixedNumbers(t *testing.T) {
	m, err := NewConfusionMatrix(5, fixedLabels, fixedPredictions)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Report()
	want := []ClassMetrics{
		{4.0 / 6, 4.0 / 6, 8.0 / 12, 6},
		{5.0 / 7, 5.0 / 7, 10.0 / 14, 7},
		{5.0 / 8, 5.0 / 7, 10.0 / 15, 7},
		{0, 0, 0, 4},
		{0, 0, 0, 0},
	}
	if len(r.Classes) != len(want) {
		t.Fatalf("%d classes, want %d", len(r.Classes), len(want))
	}
	for i, w := range want {
		g := r.Classes[i]
		if !approx(g.Precision, w.Precision) || !approx(g.Recall, w.Recall) || !approx(g.F1, w.F1) || g.Support != w.Support {
			t.Errorf("class %d = %+v, want %+v", i, g, w)
		}
	}
	if r.Total != 24 || !approx(r.Accuracy, 14.0/24) {
		t.Errorf("total %d accuracy %v, want 24 and %v", r.Total, r.Accuracy, 14.0/24)
	}
	macro := ClassMetrics{
		(2.0/3 + 5.0/7 + 5.0/8) / 5,
		(2.0/3 + 5.0/7 + 5.0/7) / 5,
		(2.0/3 + 5.0/7 + 2.0/3) / 5,
		24,
	}
	weighted := ClassMetrics{13.375 / 24, 14.0 / 24, (4 + 5 + 14.0/3) / 24, 24}
	for _, c := range []struct {
		name      string
		got, want ClassMetrics
	}{{"macro", r.MacroAvg, macro}, {"weighted", r.WeightedAvg, weighted}} {
		if !approx(c.got.Precision, c.want.Precision) || !approx(c.got.Recall, c.want.Recall) ||
			!approx(c.got.F1, c.want.F1) || c.got.Support != c.want.Support {
			t.Errorf("%s avg = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestReportFixedString(t *testing.T) {
	m, err := NewConfusionMatrix(5, fixedLabels, fixedPredictions)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Report()
	if got := r.String(); got != fixedReportText {
		t.Errorf("String() =\n%q\nwant\n%q", got, fixedReportText)
	}
	if got := r.Format(2); got != fixedReportText {
		t.Errorf("Format(2) differs from the expected table:\n%s", got)
	}
	if got := r.Format(4); got != fixedReportText4 {
		t.Errorf("Format(4) =\n%q\nwant\n%q", got, fixedReportText4)
	}
}

// TestReportFormatRounding checks that values are rounded as Python's
// '{:.2f}' does (exact binary value, ties to even): 0.125 -> 0.12,
// 0.375 -> 0.38, 0.625 -> 0.62, 0.875 -> 0.88, and 0.005 (just above the
// tie in binary: 0.005000000000000000104...) -> 0.01.
func TestReportFormatRounding(t *testing.T) {
	r := Report{
		Classes: []ClassMetrics{
			{0.125, 0.375, 0.625, 1},
			{0.875, 0.005, 1, 1234567890},
		},
		Accuracy: 0.5,
		Total:    3,
	}
	want := "              precision    recall  f1-score   support\n\n" +
		"           0       0.12      0.38      0.62         1\n" +
		"           1       0.88      0.01      1.00 1234567890\n\n" +
		"    accuracy                           0.50         3\n" +
		"   macro avg       0.00      0.00      0.00         0\n" +
		"weighted avg       0.00      0.00      0.00         0\n"
	if got := r.String(); got != want {
		t.Errorf("String() =\n%q\nwant\n%q", got, want)
	}
}

// TestReportWidth checks the name column width max(12, longest name, digits).
func TestReportWidth(t *testing.T) {
	// digits=14 widens the name column to 14 (two spaces more than 12).
	r := Report{Classes: []ClassMetrics{{0.5, 0.5, 0.5, 2}}, Accuracy: 0.5, Total: 2}
	lines := strings.Split(r.Format(14), "\n")
	if want := strings.Repeat(" ", 14) + "  precision"; !strings.HasPrefix(lines[0], want) {
		t.Errorf("header %q, want prefix %q", lines[0], want)
	}
	if want := strings.Repeat(" ", 13) + "0  0.50000000000000"; !strings.HasPrefix(lines[2], want) {
		t.Errorf("row %q, want prefix %q", lines[2], want)
	}
	// 10 MNIST classes: names "0".."9" are short, width stays 12.
	m, err := NewConfusionMatrix(10, []int{0, 9}, []int{0, 9})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Report().String()
	if !strings.Contains(s, "\n           9       1.00      1.00      1.00         1\n") {
		t.Errorf("unexpected 10-class report:\n%s", s)
	}
	if n := strings.Count(s, "\n"); n != 1+1+10+1+3 {
		t.Errorf("10-class report has %d lines, want 16:\n%s", n, s)
	}
}

func TestReportJSON(t *testing.T) {
	m, err := NewConfusionMatrix(2, []int{0, 1, 1}, []int{0, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m.Report())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"classes", "accuracy", "macroAvg", "weightedAvg", "total"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON %s lacks key %q", b, k)
		}
	}
	cls := got["classes"].([]any)[0].(map[string]any)
	for _, k := range []string{"precision", "recall", "f1", "support"} {
		if _, ok := cls[k]; !ok {
			t.Errorf("class JSON %v lacks key %q", cls, k)
		}
	}
}

func TestReportConfusionRandomProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		k := 1 + rng.IntN(12)
		n := rng.IntN(300)
		labels := make([]int, n)
		preds := make([]int, n)
		for i := range labels {
			labels[i] = rng.IntN(k)
			if rng.IntN(3) == 0 { // make correct predictions common
				preds[i] = labels[i]
			} else {
				preds[i] = rng.IntN(k)
			}
		}
		m, err := NewConfusionMatrix(k, labels, preds)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, row := range m {
			for _, c := range row {
				sum += c
			}
		}
		if sum != n {
			t.Fatalf("trial %d: matrix sums to %d, want %d", trial, sum, n)
		}
		// Independent per-class tp/fp/fn straight from the pairs.
		tp := make([]int, k)
		fp := make([]int, k)
		fn := make([]int, k)
		equal := 0
		for i := range labels {
			if labels[i] == preds[i] {
				equal++
				tp[labels[i]]++
			} else {
				fp[preds[i]]++
				fn[labels[i]]++
			}
		}
		r := m.Report()
		if r.Total != n || len(r.Classes) != k {
			t.Fatalf("trial %d: total %d classes %d, want %d and %d", trial, r.Total, len(r.Classes), n, k)
		}
		wantAcc := 0.0
		if n > 0 {
			wantAcc = float64(equal) / float64(n)
		}
		if !approx(r.Accuracy, wantAcc) {
			t.Fatalf("trial %d: accuracy %v, want %v", trial, r.Accuracy, wantAcc)
		}
		var mp, mr, mf float64
		supports := 0
		for c, g := range r.Classes {
			var p, rec, f float64
			if tp[c]+fp[c] > 0 {
				p = float64(tp[c]) / float64(tp[c]+fp[c])
			}
			if tp[c]+fn[c] > 0 {
				rec = float64(tp[c]) / float64(tp[c]+fn[c])
			}
			if p+rec > 0 {
				f = 2 * p * rec / (p + rec)
			}
			if !approx(g.Precision, p) || !approx(g.Recall, rec) || !approx(g.F1, f) || g.Support != tp[c]+fn[c] {
				t.Fatalf("trial %d class %d: got %+v, want P %v R %v F1 %v support %d", trial, c, g, p, rec, f, tp[c]+fn[c])
			}
			for _, v := range []float64{g.Precision, g.Recall, g.F1} {
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Fatalf("trial %d class %d: metric %v outside [0,1]", trial, c, v)
				}
			}
			mp += g.Precision
			mr += g.Recall
			mf += g.F1
			supports += g.Support
		}
		if supports != n {
			t.Fatalf("trial %d: supports sum to %d, want %d", trial, supports, n)
		}
		kf := float64(k)
		if !approx(r.MacroAvg.Precision, mp/kf) || !approx(r.MacroAvg.Recall, mr/kf) || !approx(r.MacroAvg.F1, mf/kf) {
			t.Fatalf("trial %d: macro avg %+v is not the mean (%v %v %v)", trial, r.MacroAvg, mp/kf, mr/kf, mf/kf)
		}
		if n > 0 && !approx(r.WeightedAvg.Recall, r.Accuracy) {
			t.Fatalf("trial %d: weighted recall %v != accuracy %v", trial, r.WeightedAvg.Recall, r.Accuracy)
		}
		if r.MacroAvg.Support != n || r.WeightedAvg.Support != n {
			t.Fatalf("trial %d: average supports %d %d, want %d", trial, r.MacroAvg.Support, r.WeightedAvg.Support, n)
		}
		if lines := strings.Count(r.String(), "\n"); lines != k+6 {
			t.Fatalf("trial %d: report has %d lines, want %d", trial, lines, k+6)
		}
	}
}

func TestConfusionMatrixErrors(t *testing.T) {
	cases := []struct {
		name          string
		k             int
		labels, preds []int
	}{
		{"length mismatch", 3, []int{0, 1}, []int{0}},
		{"length mismatch nil", 3, nil, []int{0}},
		{"negative label", 3, []int{0, -1}, []int{0, 1}},
		{"label too big", 3, []int{0, 3}, []int{0, 1}},
		{"negative prediction", 3, []int{0, 1}, []int{-1, 1}},
		{"prediction too big", 10, []int{0, 1}, []int{0, 10}},
		{"zero classes", 0, nil, nil},
		{"negative classes", -2, []int{0}, []int{0}},
	}
	for _, c := range cases {
		m, err := NewConfusionMatrix(c.k, c.labels, c.preds)
		if err == nil {
			t.Errorf("%s: no error, matrix %v", c.name, m)
		}
		if m != nil {
			t.Errorf("%s: non-nil matrix %v with error", c.name, m)
		}
	}
}

func TestReportDegenerate(t *testing.T) {
	// Empty input: a valid all-zero matrix, and a report of zeros.
	m, err := NewConfusionMatrix(10, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Report()
	if r.Total != 0 || r.Accuracy != 0 || len(r.Classes) != 10 || r.MacroAvg != (ClassMetrics{}) || r.WeightedAvg != (ClassMetrics{}) {
		t.Errorf("empty report = %+v", r)
	}
	_ = r.String()
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("empty report does not marshal: %v", err)
	}
	// Hand-built nil and ragged matrices must not panic.
	_ = ConfusionMatrix(nil).Report().String()
	rg := ConfusionMatrix{{1, 2, 3}, {4}, nil}.Report()
	if rg.Total != 1+2+3+4 || rg.Classes[0].Support != 6 || rg.Classes[2].Support != 0 {
		t.Errorf("ragged report = %+v", rg)
	}
	_ = Report{}.Format(-3)
}
