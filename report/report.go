// Package report scores a classifier the way sklearn does: the confusion matrix of true labels
// against predictions, and from it the classification report (precision, recall, F1 and support
// of each class, accuracy, and the macro and weighted averages), as numbers and as sklearn's text.
// It knows nothing of MNIST or of the network: model fills it in after each evaluation.
package report

import (
	"fmt"
	"strconv"
	"strings"
)

// ConfusionMatrix counts classification outcomes: m[t][p] is the number of
// samples whose true label is t and whose predicted label is p. Rows are true
// labels and columns are predicted labels, the same orientation as
// sklearn.metrics.confusion_matrix. A matrix built by NewConfusionMatrix is
// always square with one row and one column per class.
type ConfusionMatrix [][]int

// NewConfusionMatrix counts labels against predictions for the classes
// 0..numClasses-1. It returns an error (and never panics) when numClasses is
// not positive, when the two slices differ in length, or when any label or
// prediction lies outside [0, numClasses). Empty inputs give an all-zero
// matrix.
func NewConfusionMatrix(numClasses int, labels, predictions []int) (ConfusionMatrix, error) {
	if numClasses <= 0 {
		return nil, fmt.Errorf("confusion matrix: numClasses must be positive, got %d", numClasses)
	}
	if len(labels) != len(predictions) {
		return nil, fmt.Errorf("confusion matrix: %d labels but %d predictions", len(labels), len(predictions))
	}
	for i := range labels {
		if l := labels[i]; l < 0 || l >= numClasses {
			return nil, fmt.Errorf("confusion matrix: label %d at index %d is outside [0, %d)", l, i, numClasses)
		}
		if p := predictions[i]; p < 0 || p >= numClasses {
			return nil, fmt.Errorf("confusion matrix: prediction %d at index %d is outside [0, %d)", p, i, numClasses)
		}
	}
	cells := make([]int, numClasses*numClasses)
	m := make(ConfusionMatrix, numClasses)
	for i := range m {
		m[i] = cells[i*numClasses : (i+1)*numClasses : (i+1)*numClasses]
	}
	for i, l := range labels {
		m[l][predictions[i]]++
	}
	return m, nil
}

// cell returns m[i][j], or 0 when the cell does not exist, so that Report
// never panics on a hand-built ragged matrix.
func (m ConfusionMatrix) cell(i, j int) int {
	if i < 0 || i >= len(m) || j < 0 || j >= len(m[i]) {
		return 0
	}
	return m[i][j]
}

// ClassMetrics holds precision, recall, F1 score and support (the number of
// samples whose true label is the class) for one class, or for an average
// over classes, in which case Support is the total number of samples.
type ClassMetrics struct {
	// Precision is tp/(tp+fp), or 0 when nothing was predicted as the class.
	Precision float64 `json:"precision"`
	// Recall is tp/(tp+fn), or 0 when the class never occurs in the labels.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of precision and recall, or 0 when both are 0.
	F1 float64 `json:"f1"`
	// Support is the number of samples with this true label.
	Support int `json:"support"`
}

// Report is the data of sklearn's classification_report: per-class
// metrics, accuracy, and the macro and weighted averages. Its JSON encoding
// uses lowerCamel keys so it can be sent to a web page as-is.
//
// Unlike sklearn's default, which lists only the classes that occur in the
// labels or in the predictions, a Report always has one entry per class of
// the matrix (for MNIST, all ten digits), even when a class has no support
// and was never predicted. That matches sklearn called with
// labels=range(numClasses): such a class scores 0 everywhere and still
// counts in the macro average.
type Report struct {
	// Classes holds the metrics of class i at index i.
	Classes []ClassMetrics `json:"classes"`
	// Accuracy is the fraction of samples predicted correctly (trace/total),
	// or 0 when there are no samples.
	Accuracy float64 `json:"accuracy"`
	// MacroAvg is the unweighted mean of the per-class metrics; its Support
	// is Total.
	MacroAvg ClassMetrics `json:"macroAvg"`
	// WeightedAvg is the mean of the per-class metrics weighted by support;
	// its Support is Total.
	WeightedAvg ClassMetrics `json:"weightedAvg"`
	// Total is the number of samples.
	Total int `json:"total"`
}

// divide returns num/den, or 0 when den is 0 (sklearn's zero_division="warn"
// result, without the warning).
func divide(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Report computes per-class precision, recall, F1 and support, accuracy,
// and the macro and weighted averages from the matrix, following
// sklearn.metrics.precision_recall_fscore_support with the default
// zero_division: a ratio whose denominator is 0 is 0. F1 is computed from
// counts as 2tp/(2tp+fp+fn), as sklearn does since 1.3; this equals
// 2PR/(P+R), and is 0 when P+R is 0. The weighted average uses support as
// weights; when every class has zero support it falls back to the plain
// mean, as sklearn's _nanaverage does (all metrics are then 0 anyway).
//
// Only the square of the first len(m) rows and columns is read; missing
// cells of a ragged matrix count as 0.
func (m ConfusionMatrix) Report() Report {
	n := len(m)
	r := Report{Classes: make([]ClassMetrics, n)}
	predSum := make([]int, n)
	trace := 0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			c := m.cell(i, j)
			r.Classes[i].Support += c
			predSum[j] += c
			r.Total += c
		}
		trace += m.cell(i, i)
	}
	for i := range r.Classes {
		c := &r.Classes[i]
		tp := m.cell(i, i)
		c.Precision = divide(tp, predSum[i])
		c.Recall = divide(tp, c.Support)
		c.F1 = divide(2*tp, c.Support+predSum[i])
	}
	r.Accuracy = divide(trace, r.Total)

	var sumP, sumR, sumF, wP, wR, wF float64
	for _, c := range r.Classes {
		sumP += c.Precision
		sumR += c.Recall
		sumF += c.F1
		w := float64(c.Support)
		wP += w * c.Precision
		wR += w * c.Recall
		wF += w * c.F1
	}
	if n > 0 {
		k := float64(n)
		r.MacroAvg = ClassMetrics{Precision: sumP / k, Recall: sumR / k, F1: sumF / k}
	}
	if r.Total > 0 {
		t := float64(r.Total)
		r.WeightedAvg = ClassMetrics{Precision: wP / t, Recall: wR / t, F1: wF / t}
	} else {
		r.WeightedAvg = r.MacroAvg
	}
	r.MacroAvg.Support = r.Total
	r.WeightedAvg.Support = r.Total
	return r
}

// String returns the report in the text layout of sklearn's
// classification_report(y_true, y_pred, digits=2); it is Format(2).
func (r Report) String() string { return r.Format(2) }

// Format returns the report in the text layout of sklearn's
// classification_report with the given number of decimals (a negative
// digits is treated as 0). Class i is named "i". The layout is exactly
// sklearn's: a header line, a blank line, one line per class, a blank line,
// then the accuracy, macro avg and weighted avg lines, each line (the last
// included) ending in a newline. The name column is
// max(len("weighted avg"), longest class name, digits) wide and each value
// column is 9 wide, preceded by a space; numbers are rounded like Python's
// format (round half to even on the exact binary value).
func (r Report) Format(digits int) string {
	if digits < 0 {
		digits = 0
	}
	const lastHeading = "weighted avg"
	width := max(len(lastHeading), len(strconv.Itoa(len(r.Classes)-1)), digits)

	var b strings.Builder
	// head_fmt = '{:>{width}s} ' + ' {:>9}' * 4, followed by "\n\n".
	fmt.Fprintf(&b, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	// row_fmt = '{:>{width}s} ' + ' {:>9.{digits}f}' * 3 + ' {:>9}\n'
	row := func(name string, c ClassMetrics) {
		fmt.Fprintf(&b, "%*s  %9.*f %9.*f %9.*f %9d\n", width, name,
			digits, c.Precision, digits, c.Recall, digits, c.F1, c.Support)
	}
	for i, c := range r.Classes {
		row(strconv.Itoa(i), c)
	}
	b.WriteString("\n")
	// row_fmt_accuracy = '{:>{width}s} ' + ' {:>9.{digits}}' * 2 +
	//     ' {:>9.{digits}f}' + ' {:>9}\n', with "" in the two blank columns.
	fmt.Fprintf(&b, "%*s  %9s %9s %9.*f %9d\n", width, "accuracy", "", "", digits, r.Accuracy, r.Total)
	row("macro avg", r.MacroAvg)
	row(lastHeading, r.WeightedAvg)
	return b.String()
}
