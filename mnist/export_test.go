package mnist

// The IDX magic numbers, for the tests of package mnist_test, which build files of their own.
const (
	ImagesMagic = imagesMagic
	LabelsMagic = labelsMagic
)

// NewRunsSource indexes runs of n images, for the tests of package mnist_test.
var NewRunsSource = func(runs []byte, n int) (ImageSource, error) { return newRunsSource(runs, n) }
