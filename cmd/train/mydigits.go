package main

import (
	"fmt"
	"io"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// myDigitsUsage is the -my-digits flag's help.
var myDigitsUsage = fmt.Sprintf("a student's own digits, as the page exports them (My digits), or a class set: a folder holding %s and %s, "+
	"or the two files, comma-separated; evaluated after each epoch and at the end, and mixed into training with -mix-digits",
	mnist.MyDigitsImagesFile, mnist.MyDigitsLabelsFile)

// checkMyDigits refuses copies of My digits to mix in without the files to take them from: the
// page then mixes in nothing, but a command line that asks for them means to have them.
func (m *Main) checkMyDigits() error {
	if m.Config.MixDigits > 0 && m.MyDigits == "" {
		return fmt.Errorf("mix-digits: %d copies of My digits per epoch, but no -my-digits files to take them from", m.Config.MixDigits)
	}
	return nil
}

// openMyDigits reads -my-digits; nil when the flag is not set.
func (m *Main) openMyDigits() (*mnist.Dataset, error) {
	if m.MyDigits == "" {
		return nil, nil
	}
	return mnistdir.OpenMyDigits(m.MyDigits)
}

// myDigitsLine says what d, the digits of -my-digits, holds and what the run does with them.
func (m *Main) myDigitsLine(d *mnist.Dataset) string {
	var counts [mnist.NumClasses]int
	for _, l := range d.Labels {
		counts[l]++
	}
	mixed := "evaluated, not mixed into training (-mix-digits 0)"
	if m.Config.MixDigits > 0 {
		mixed = fmt.Sprintf("evaluated, and %d copies of each mixed into every epoch", m.Config.MixDigits)
	}
	return fmt.Sprintf("My digits: %d from %s (per digit 0-9: %v), %s", d.Len(), m.MyDigits, counts, mixed)
}

// digitsLine is the accuracy on My digits, for the line of an epoch.
func digitsLine(ev *model.Evaluation) string {
	if ev == nil {
		return ""
	}
	return fmt.Sprintf(", My digits: accuracy %.4f (%d of %d)", ev.Report.Accuracy, correct(ev), len(ev.Predictions))
}

// correct counts the digits predicted right: the confusion matrix's diagonal.
func correct(ev *model.Evaluation) int {
	n := 0
	for i := range ev.Confusion {
		n += ev.Confusion[i][i]
	}
	return n
}

// printDigitsReport prints the classification report and the confusion matrix of My digits.
func printDigitsReport(w io.Writer, ev model.Evaluation) {
	fmt.Fprintf(w, "\nClassification report on %d of My digits:\n\n%s\n", len(ev.Predictions), ev.Report)
	fmt.Fprintf(w, "My digits accuracy %.4f (%d of %d). Confusion matrix (rows: the true digit, columns: the prediction):\n",
		ev.Report.Accuracy, correct(&ev), len(ev.Predictions))
	fmt.Fprint(w, "    ")
	for p := range mnist.NumClasses {
		fmt.Fprintf(w, "%4d", p)
	}
	fmt.Fprintln(w)
	for t, row := range ev.Confusion {
		fmt.Fprintf(w, "%4d", t)
		for _, n := range row {
			fmt.Fprintf(w, "%4d", n)
		}
		fmt.Fprintln(w)
	}
}
