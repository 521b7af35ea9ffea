package mnistdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mnist-trainer/mnist/mnist"
)

// OpenMyDigits reads a set of a student's own digits ("My digits", as the page exports them, or
// a class set an instructor merged) from spec: a folder holding mnist.MyDigitsImagesFile and
// mnist.MyDigitsLabelsFile, or an images file and its labels file, comma-separated, in either
// order. The files are checked as the page checks an import (mnist.LoadIDXPair): an error names
// the file at fault and what is wrong with it.
func OpenMyDigits(spec string) (*mnist.Dataset, error) {
	var paths []string
	if info, err := os.Stat(spec); err == nil && info.IsDir() {
		paths = []string{filepath.Join(spec, mnist.MyDigitsImagesFile), filepath.Join(spec, mnist.MyDigitsLabelsFile)}
	} else {
		for _, p := range strings.Split(spec, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
		if len(paths) != 2 {
			return nil, fmt.Errorf("my digits %q: want a folder holding %s and %s, or an images file and its labels file, comma-separated",
				spec, mnist.MyDigitsImagesFile, mnist.MyDigitsLabelsFile)
		}
	}
	var files [2]mnist.IDXFile
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("my digits: %w", err)
		}
		files[i] = mnist.IDXFile{Name: p, Data: data}
	}
	d, err := mnist.LoadIDXPair(files[0], files[1])
	if err != nil {
		return nil, fmt.Errorf("my digits: %w", err)
	}
	return d, nil
}
