package mnist

// The IDX magic numbers, for the tests of package mnist_test, which build files of their own.
const (
	ImagesMagic = imagesMagic
	LabelsMagic = labelsMagic
)
