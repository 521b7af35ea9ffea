package model

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Config holds every hyper-parameter of the network and its training. It is the one list of them:
// the native command turns each field into a flag, the page into a control and a URL parameter,
// and weight files store it as JSON, all through Fields.
//
// The zero value is not useful; start from DefaultConfig (the course notebook's values) or a Preset.
type Config struct {
	// Filters is the number of filters of conv1, conv2 and conv3.
	Filters [3]int `json:"filters"`
	// KernelSize is the side of every conv kernel (square).
	KernelSize int `json:"kernelSize"`
	// Stride is the stride of conv1; conv2 and conv3 always use stride 1.
	Stride int `json:"stride"`
	// Dense is the width of the two hidden dense layers (ReLU, then sigmoid).
	Dense [2]int `json:"dense"`
	// LearningRate is Adam's learning rate.
	LearningRate float64 `json:"learningRate"`
	// Epochs is the number of passes over the training images.
	Epochs int `json:"epochs"`
	// BatchSize is the number of images per training step.
	BatchSize int `json:"batchSize"`
	// Seed drives weight initialisation and shuffling: the same seed on the same backend gives the same losses.
	Seed int64 `json:"seed"`
	// Epsilon is added to the variance in the batch-statistics normalisation.
	Epsilon float64 `json:"epsilon"`
	// TrainImages limits training to the first N training images; 0 means all of them.
	TrainImages int `json:"trainImages"`
	// LossImages is how many training images the after-epoch training loss is computed on; 0 means all of
	// them, as the notebook does. A subsample makes the end of an epoch much cheaper in the browser.
	LossImages int `json:"lossImages"`
	// MixDigits is how many copies of each of the student's own digits (TrainOptions.Digits) are
	// mixed into every epoch's training images, each shifted and rotated a little; 0 mixes none.
	MixDigits int `json:"mixDigits,omitempty"`
}

// DefaultConfig returns the course notebook's configuration.
func DefaultConfig() Config {
	return Config{
		Filters:      [3]int{32, 64, 128},
		KernelSize:   3,
		Stride:       2,
		Dense:        [2]int{128, 128},
		LearningRate: 0.005,
		Epochs:       2,
		BatchSize:    64,
		Seed:         1,
		// The notebook's value. Measured stable with Adam at 0.005 (see model tests); a dead channel
		// (variance 0) normalises to 0, not NaN, because its centred values are exactly 0.
		Epsilon: 1e-12,
	}
}

// Preset is a named configuration from the notebook's experiments.
type Preset struct {
	// Name is the identifier used in flags and URLs, e.g. "half-filters".
	Name string `json:"name"`
	// Title is the human-readable label.
	Title string `json:"title"`
	// Config is the full configuration of the preset.
	Config Config `json:"config"`
}

// Presets lists the notebook's experiments: its network, filter counts halved, and 4x4 kernels.
func Presets() []Preset {
	notebook := DefaultConfig()
	half := notebook
	half.Filters = [3]int{16, 32, 64}
	kernel4 := notebook
	kernel4.KernelSize = 4
	return []Preset{
		{Name: "notebook", Title: "Notebook (32/64/128 filters, 3x3)", Config: notebook},
		{Name: "half-filters", Title: "Half filters (16/32/64)", Config: half},
		{Name: "kernel-4", Title: "Kernel 4x4", Config: kernel4},
	}
}

// PresetConfig returns the configuration of the named preset.
func PresetConfig(name string) (Config, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p.Config, nil
		}
		names = append(names, p.Name)
	}
	return Config{}, fmt.Errorf("%w %s (known: %s)", ErrUnknownPreset, quote(name), strings.Join(names, ", "))
}

// ErrUnknownPreset is wrapped by PresetConfig's error for a name that is not a preset: the page
// puts that error under its preset picker.
var ErrUnknownPreset = errors.New("unknown preset")

// FieldError is a setting refused: Key names it (a Fields key) and Err says why. Its message is
// "key: why", the form in which the page shows it under the setting's control; the native command
// shows Err alone, against the flag. Field.Set, Validate, FromQuery and the memory checks return
// one, so that a caller finds the setting with errors.As, never in the text.
type FieldError struct {
	Key string
	Err error
}

// Error returns "key: why".
func (e *FieldError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the reason, Err.
func (e *FieldError) Unwrap() error { return e.Err }

// refuse returns a FieldError for key, its reason formatted as by fmt.Errorf.
func refuse(key, format string, args ...any) error {
	return &FieldError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Field describes one configuration key, for flags, URL parameters and the page's controls.
type Field struct {
	// Key is the flag and URL-parameter name, e.g. "batch-size".
	Key string `json:"key"`
	// Usage is a one-line description with the valid range.
	Usage string `json:"usage"`
	// get and set convert between the Config field and its text form.
	get func(c *Config) string
	set func(c *Config, s string) error
}

// Get returns the field's value in c as text, in the form Set accepts.
func (f Field) Get(c *Config) string { return f.get(c) }

// Set parses s into the field of c. It does not validate ranges: Config.Validate does, once all fields are set.
func (f Field) Set(c *Config, s string) error {
	if err := f.set(c, strings.TrimSpace(s)); err != nil {
		return &FieldError{Key: f.Key, Err: err}
	}
	return nil
}

// Limits of each setting: wide enough for every sensible experiment, narrow enough that a typo
// cannot make a number absurd. They do not bound memory together: 512 filters with 7x7 kernels
// at stride 1 are each in range and need 5 GB. CheckMemory does (memory.go).
const (
	maxFilters    = 512
	maxKernelSize = 7
	maxStride     = 4
	maxDense      = 4096
	maxEpochs     = 1000
	maxBatchSize  = 4096
	maxImages     = 1_000_000
)

// Fields lists every configuration key in a stable order.
func Fields() []Field {
	return []Field{
		{Key: "filters", Usage: fmt.Sprintf("filters of conv1,conv2,conv3 (each 1..%d)", maxFilters),
			get: func(c *Config) string { return joinInts(c.Filters[:]) },
			set: func(c *Config, s string) error { return parseInts(s, c.Filters[:]) }},
		{Key: "kernel", Usage: fmt.Sprintf("conv kernel size (1..%d)", maxKernelSize),
			get: func(c *Config) string { return strconv.Itoa(c.KernelSize) },
			set: func(c *Config, s string) error { return parseInt(s, &c.KernelSize) }},
		{Key: "stride", Usage: fmt.Sprintf("stride of conv1 (1..%d)", maxStride),
			get: func(c *Config) string { return strconv.Itoa(c.Stride) },
			set: func(c *Config, s string) error { return parseInt(s, &c.Stride) }},
		{Key: "dense", Usage: fmt.Sprintf("widths of the two hidden dense layers (each 1..%d)", maxDense),
			get: func(c *Config) string { return joinInts(c.Dense[:]) },
			set: func(c *Config, s string) error { return parseInts(s, c.Dense[:]) }},
		{Key: "lr", Usage: "Adam learning rate (>0, at most 100)",
			get: func(c *Config) string { return strconv.FormatFloat(c.LearningRate, 'g', -1, 64) },
			set: func(c *Config, s string) error { return parseFloat(s, &c.LearningRate) }},
		{Key: "epochs", Usage: fmt.Sprintf("passes over the training images (1..%d)", maxEpochs),
			get: func(c *Config) string { return strconv.Itoa(c.Epochs) },
			set: func(c *Config, s string) error { return parseInt(s, &c.Epochs) }},
		{Key: "batch", Usage: fmt.Sprintf("images per training step (1..%d, at most the training images)", maxBatchSize),
			get: func(c *Config) string { return strconv.Itoa(c.BatchSize) },
			set: func(c *Config, s string) error { return parseInt(s, &c.BatchSize) }},
		{Key: "seed", Usage: "random seed for initialisation and shuffling",
			get: func(c *Config) string { return strconv.FormatInt(c.Seed, 10) },
			set: func(c *Config, s string) error {
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("%s is not an integer", quote(s))
				}
				c.Seed = v
				return nil
			}},
		{Key: "epsilon", Usage: "variance epsilon of the batch-statistics normalisation (>0, at most 1)",
			get: func(c *Config) string { return strconv.FormatFloat(c.Epsilon, 'g', -1, 64) },
			set: func(c *Config, s string) error { return parseFloat(s, &c.Epsilon) }},
		{Key: "train-images", Usage: "train on the first N training images (0 = all)",
			get: func(c *Config) string { return strconv.Itoa(c.TrainImages) },
			set: func(c *Config, s string) error { return parseInt(s, &c.TrainImages) }},
		{Key: "loss-images", Usage: "training images the after-epoch loss is computed on (0 = all, as the notebook)",
			get: func(c *Config) string { return strconv.Itoa(c.LossImages) },
			set: func(c *Config, s string) error { return parseInt(s, &c.LossImages) }},
		{Key: "mix-digits", Usage: fmt.Sprintf("copies of each of My digits mixed into every epoch, each shifted and rotated a little (0..%d; 0 = none)", maxMixDigits),
			get: func(c *Config) string { return strconv.Itoa(c.MixDigits) },
			set: func(c *Config, s string) error { return parseInt(s, &c.MixDigits) }},
	}
}

// Set sets the configuration key to the text value, as a flag or URL parameter would.
func (c *Config) Set(key, value string) error {
	for _, f := range Fields() {
		if f.Key == key {
			return f.Set(c, value)
		}
	}
	return fmt.Errorf("unknown setting %s", quote(key))
}

// FromQuery builds a configuration from URL query parameters: "preset" picks the starting point
// (default "notebook"), then every known key overrides it. Unknown keys are ignored, because the
// page's own parameters (which panels to show) share the query. The result is validated.
func FromQuery(q url.Values) (Config, error) {
	c := DefaultConfig()
	if name := q.Get("preset"); name != "" {
		var err error
		if c, err = PresetConfig(name); err != nil {
			return Config{}, err
		}
	}
	for _, f := range Fields() {
		if v, ok := q[f.Key]; ok && len(v) > 0 {
			if err := f.Set(&c, v[len(v)-1]); err != nil {
				return Config{}, err
			}
		}
	}
	return c, c.Validate()
}

// Validate reports the first setting that is out of range, in words a student can act on, as a
// *FieldError. Whether the network fits in memory is a separate check, CheckMemory, since the
// limit is the caller's: a browser tab's (BrowserMemoryLimit) or a machine's.
func (c Config) Validate() error {
	for i, f := range c.Filters {
		if f < 1 || f > maxFilters {
			return refuse("filters", "conv%d has %d filters; it needs 1..%d", i+1, f, maxFilters)
		}
	}
	if c.KernelSize < 1 || c.KernelSize > maxKernelSize {
		return refuse("kernel", "size %d is outside 1..%d", c.KernelSize, maxKernelSize)
	}
	if c.Stride < 1 || c.Stride > maxStride {
		return refuse("stride", "%d is outside 1..%d", c.Stride, maxStride)
	}
	for i, d := range c.Dense {
		if d < 1 || d > maxDense {
			return refuse("dense", "layer %d has width %d; it needs 1..%d", i+1, d, maxDense)
		}
	}
	if !(c.LearningRate > 0 && c.LearningRate <= 100) { // also catches NaN
		return refuse("lr", "learning rate %g must be > 0 and at most 100", c.LearningRate)
	}
	if c.Epochs < 1 || c.Epochs > maxEpochs {
		return refuse("epochs", "%d is outside 1..%d", c.Epochs, maxEpochs)
	}
	if c.BatchSize < 1 || c.BatchSize > maxBatchSize {
		return refuse("batch", "size %d is outside 1..%d", c.BatchSize, maxBatchSize)
	}
	if !(c.Epsilon > 0 && c.Epsilon <= 1) || math.IsInf(c.Epsilon, 0) {
		return refuse("epsilon", "%g must be > 0 and at most 1", c.Epsilon)
	}
	if c.TrainImages < 0 || c.TrainImages > maxImages {
		return refuse("train-images", "%d is outside 0..%d (0 means all)", c.TrainImages, maxImages)
	}
	if c.LossImages < 0 || c.LossImages > maxImages {
		return refuse("loss-images", "%d is outside 0..%d (0 means all)", c.LossImages, maxImages)
	}
	if c.MixDigits < 0 || c.MixDigits > maxMixDigits {
		return refuse("mix-digits", "%d is outside 0..%d (copies of each of My digits per epoch; 0 means none)", c.MixDigits, maxMixDigits)
	}
	if c.TrainImages > 0 && c.BatchSize > c.TrainImages {
		return refuse("batch", "size %d is larger than the %d training images", c.BatchSize, c.TrainImages)
	}
	return nil
}

// String returns the configuration as space-separated key=value pairs, in Fields order.
func (c Config) String() string {
	var parts []string
	for _, f := range Fields() {
		parts = append(parts, f.Key+"="+f.Get(&c))
	}
	return strings.Join(parts, " ")
}

func parseInt(s string, dst *int) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%s is not an integer", quote(s))
	}
	*dst = v
	return nil
}

func parseFloat(s string, dst *float64) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s is not a number", quote(s))
	}
	*dst = v
	return nil
}

// parseInts parses exactly len(dst) comma-separated integers.
func parseInts(s string, dst []int) error {
	parts := strings.Split(s, ",")
	if len(parts) != len(dst) {
		return fmt.Errorf("%s needs %d comma-separated integers", quote(s), len(dst))
	}
	vals := make([]int, len(dst))
	for i, p := range parts {
		if err := parseInt(strings.TrimSpace(p), &vals[i]); err != nil {
			return err
		}
	}
	copy(dst, vals)
	return nil
}

// quotedRunes is how much of a value an error message quotes.
const quotedRunes = 40

// quote returns s in Go quotes for an error message, cut short when it is long: a 10 KB URL
// parameter gets a message of one line, not of 10 KB.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= quotedRunes {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return fmt.Sprintf("%s (%d characters)", strconv.Quote(string(r[:quotedRunes])+"…"), len(r))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
