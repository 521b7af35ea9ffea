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

// Field describes one configuration key, for flags, URL parameters and the page's controls, with
// its limits: Validate checks them, and Usage, the flags' help and the page's hints, says them.
type Field struct {
	// Key is the flag and URL-parameter name, e.g. "batch-size".
	Key string `json:"key"`
	// Usage is a one-line description with the valid range, made from the limits below.
	Usage string `json:"usage"`
	// Min and Max bound the value, or each value of a list: Min <= v <= Max, or Min < v <= Max
	// where MinExclusive. A field whose Min equals its Max (seed) has no limits.
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	MinExclusive bool    `json:"minExclusive,omitempty"`
	// Integer says the values are whole numbers.
	Integer bool `json:"integer,omitempty"`
	// Count is how many comma-separated values a list takes (filters: 3); 0 for one value.
	Count int `json:"count,omitempty"`
	// why is Validate's refusal of a value outside the limits, a format given the value (for a
	// list: its position from 1, then the value) and the range ("1..512", "> 0 and at most 1").
	why string
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

// bounded reports whether the field has limits.
func (f Field) bounded() bool { return f.Min != f.Max }

// number writes a limit as Usage and refusals do: 1000000, 0.5.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// check returns a *FieldError if a value of the field in c is outside its limits, nil otherwise.
func (f Field) check(c *Config) error {
	if !f.bounded() {
		return nil
	}
	span := number(f.Min) + ".." + number(f.Max)
	if f.MinExclusive {
		span = "> " + number(f.Min) + " and at most " + number(f.Max)
	}
	for i, text := range strings.Split(f.Get(c), ",") {
		v, err := strconv.ParseFloat(text, 64)
		if err == nil && (v > f.Min || !f.MinExclusive && v == f.Min) && v <= f.Max {
			continue
		}
		var args []any
		if f.Count > 0 {
			args = append(args, i+1)
		}
		if f.Integer {
			n, _ := strconv.Atoi(text)
			args = append(args, n)
		} else {
			args = append(args, v)
		}
		return refuse(f.Key, f.why, append(args, span)...)
	}
	return nil
}

// field makes a Field, its Usage about followed by its limits and note: "conv kernel size (1..7)".
func field(f Field, about, note string) Field {
	var limits []string
	switch {
	case !f.bounded():
	case f.MinExclusive:
		limits = append(limits, ">"+number(f.Min)+", at most "+number(f.Max))
	case f.Count > 0:
		limits = append(limits, "each "+number(f.Min)+".."+number(f.Max))
	default:
		limits = append(limits, number(f.Min)+".."+number(f.Max))
	}
	if note != "" {
		limits = append(limits, note)
	}
	f.Usage = about
	if len(limits) > 0 {
		f.Usage += " (" + strings.Join(limits, "; ") + ")"
	}
	return f
}

// Fields lists every configuration key in a stable order, with its limits: wide enough for every
// sensible experiment, narrow enough that a typo cannot make a number absurd. They do not bound
// memory together: 512 filters with 7x7 kernels at stride 1 are each in range and need 5 GB.
// CheckMemory does (memory.go).
func Fields() []Field {
	return []Field{
		field(Field{Key: "filters", Min: 1, Max: 512, Integer: true, Count: len(Config{}.Filters),
			why: "conv%d has %d filters; it needs %s",
			get: func(c *Config) string { return joinInts(c.Filters[:]) },
			set: func(c *Config, s string) error { return parseInts(s, c.Filters[:]) }},
			"filters of conv1,conv2,conv3", ""),
		field(Field{Key: "kernel", Min: 1, Max: 7, Integer: true, why: "size %d is outside %s",
			get: func(c *Config) string { return strconv.Itoa(c.KernelSize) },
			set: func(c *Config, s string) error { return parseInt(s, &c.KernelSize) }},
			"conv kernel size", ""),
		field(Field{Key: "stride", Min: 1, Max: 4, Integer: true, why: "%d is outside %s",
			get: func(c *Config) string { return strconv.Itoa(c.Stride) },
			set: func(c *Config, s string) error { return parseInt(s, &c.Stride) }},
			"stride of conv1", ""),
		field(Field{Key: "dense", Min: 1, Max: 4096, Integer: true, Count: len(Config{}.Dense),
			why: "layer %d has width %d; it needs %s",
			get: func(c *Config) string { return joinInts(c.Dense[:]) },
			set: func(c *Config, s string) error { return parseInts(s, c.Dense[:]) }},
			"widths of the two hidden dense layers", ""),
		field(Field{Key: "lr", Min: 0, Max: 100, MinExclusive: true, why: "learning rate %g must be %s",
			get: func(c *Config) string { return strconv.FormatFloat(c.LearningRate, 'g', -1, 64) },
			set: func(c *Config, s string) error { return parseFloat(s, &c.LearningRate) }},
			"Adam learning rate", ""),
		field(Field{Key: "epochs", Min: 1, Max: 1000, Integer: true, why: "%d is outside %s",
			get: func(c *Config) string { return strconv.Itoa(c.Epochs) },
			set: func(c *Config, s string) error { return parseInt(s, &c.Epochs) }},
			"passes over the training images", ""),
		field(Field{Key: "batch", Min: 1, Max: 4096, Integer: true, why: "size %d is outside %s",
			get: func(c *Config) string { return strconv.Itoa(c.BatchSize) },
			set: func(c *Config, s string) error { return parseInt(s, &c.BatchSize) }},
			"images per training step", "at most the training images"),
		field(Field{Key: "seed", Integer: true,
			get: func(c *Config) string { return strconv.FormatInt(c.Seed, 10) },
			set: func(c *Config, s string) error {
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("%s is not an integer", quote(s))
				}
				c.Seed = v
				return nil
			}},
			"random seed for initialisation and shuffling", ""),
		field(Field{Key: "epsilon", Min: 0, Max: 1, MinExclusive: true, why: "%g must be %s",
			get: func(c *Config) string { return strconv.FormatFloat(c.Epsilon, 'g', -1, 64) },
			set: func(c *Config, s string) error { return parseFloat(s, &c.Epsilon) }},
			"variance epsilon of the batch-statistics normalisation", ""),
		field(Field{Key: "train-images", Min: 0, Max: 1_000_000, Integer: true, why: "%d is outside %s (0 means all)",
			get: func(c *Config) string { return strconv.Itoa(c.TrainImages) },
			set: func(c *Config, s string) error { return parseInt(s, &c.TrainImages) }},
			"train on the first N training images", "0 = all"),
		field(Field{Key: "loss-images", Min: 0, Max: 1_000_000, Integer: true, why: "%d is outside %s (0 means all)",
			get: func(c *Config) string { return strconv.Itoa(c.LossImages) },
			set: func(c *Config, s string) error { return parseInt(s, &c.LossImages) }},
			"training images the after-epoch loss is computed on", "0 = all, as the notebook"),
		field(Field{Key: "mix-digits", Min: 0, Max: 100, Integer: true,
			why: "%d is outside %s (copies of each of My digits per epoch; 0 means none)",
			get: func(c *Config) string { return strconv.Itoa(c.MixDigits) },
			set: func(c *Config, s string) error { return parseInt(s, &c.MixDigits) }},
			"copies of each of My digits mixed into every epoch, each shifted and rotated a little", "0 = none"),
	}
}

// fieldOf returns the Field of key, or false if there is none.
func fieldOf(key string) (Field, bool) {
	for _, f := range Fields() {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Set sets the configuration key to the text value, as a flag or URL parameter would.
func (c *Config) Set(key, value string) error {
	if f, ok := fieldOf(key); ok {
		return f.Set(c, value)
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
	for _, f := range Fields() {
		if err := f.check(&c); err != nil {
			return err
		}
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
