package model

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestSettingErrorsNameTheirSetting: every refusal of a setting carries its key as a *FieldError,
// which callers (the page's adapter, the flags) read with errors.As, never from the text; a
// network too large is a *MemoryError inside it, and an unknown preset wraps ErrUnknownPreset.
func TestSettingErrorsNameTheirSetting(t *testing.T) {
	for _, c := range []struct {
		query  map[string][]string
		key    string
		memory bool
	}{
		{map[string][]string{"epochs": {"ten"}}, "epochs", false},   // Field.Set: not a number
		{map[string][]string{"epochs": {"-3"}}, "epochs", false},    // Validate: out of range
		{map[string][]string{"filters": {"8,8"}}, "filters", false}, // Field.Set: not three numbers
		{map[string][]string{"lr": {"0"}}, "lr", false},             // Validate
		{map[string][]string{"loss-images": {"-1"}}, "loss-images", false},
		{map[string][]string{"train-images": {"10"}, "batch": {"64"}}, "batch", false}, // two settings together
		{map[string][]string{"filters": {"512,512,512"}, "kernel": {"7"}, "stride": {"1"}}, "filters", true},
		{map[string][]string{"batch": {"4096"}}, "batch", true},
	} {
		cfg, err := FromQuery(c.query)
		if c.memory {
			if err != nil {
				t.Fatalf("%v: %v", c.query, err)
			}
			err = cfg.CheckMemory(BrowserMemoryLimit, "a browser tab can give it")
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != c.key {
			t.Errorf("%v: %v (%T), want a *FieldError for %q", c.query, err, err, c.key)
			continue
		}
		if fe.Error() != c.key+": "+fe.Err.Error() {
			t.Errorf("%v: %q does not start with its key %q", c.query, fe.Error(), c.key)
		}
		var me *MemoryError
		if errors.As(err, &me) != c.memory {
			t.Errorf("%v: %v: a *MemoryError is %v, want %v", c.query, err, !c.memory, c.memory)
		}
	}
	_, err := FromQuery(map[string][]string{"preset": {"huge"}})
	var fe *FieldError
	if !errors.Is(err, ErrUnknownPreset) || errors.As(err, &fe) {
		t.Errorf("preset=huge: %v, want ErrUnknownPreset and no *FieldError", err)
	}
}

// TestConfigErrorsQuoteLongValuesShort: a 10 KB URL parameter is refused with a message of one
// short line that still names the setting and shows how the value starts.
func TestConfigErrorsQuoteLongValuesShort(t *testing.T) {
	long := strings.Repeat("7", 10_000)
	for q, want := range map[string]string{
		"seed":    `seed: "` + long[:quotedRunes] + `…" (10000 characters) is not an integer`,
		"epochs":  `epochs: "` + long[:quotedRunes] + `…" (10000 characters) is not an integer`,
		"lr":      `lr: "` + long[:quotedRunes] + `…" (10000 characters) is not a number`,
		"filters": `filters: "` + long[:quotedRunes] + `…" (10000 characters) needs 3 comma-separated integers`,
		"preset":  `unknown preset "` + long[:quotedRunes] + `…" (10000 characters) (known: notebook, half-filters, kernel-4)`,
	} {
		_, err := FromQuery(map[string][]string{q: {long}})
		if err == nil || err.Error() != want {
			t.Errorf("FromQuery(%s=<10,000 sevens>) = %v, want %s", q, err, want)
		}
	}
	// Short values are quoted whole, as before.
	if _, err := FromQuery(map[string][]string{"epochs": {"ten"}}); err == nil || err.Error() != `epochs: "ten" is not an integer` {
		t.Errorf("FromQuery(epochs=ten) = %v", err)
	}
	// Cut at a character, not in the middle of a UTF-8 sequence.
	if got := quote(strings.Repeat("é", 50)); got != `"`+strings.Repeat("é", quotedRunes)+`…" (50 characters)` {
		t.Errorf("quote(50 × é) = %s", got)
	}
}

// fieldMax returns the largest value setting key takes, from Fields.
func fieldMax(key string) int {
	f, ok := fieldOf(key)
	if !ok {
		panic("no setting " + key)
	}
	return int(f.Max)
}

// TestFieldLimits: each setting's limits, declared beside it in Fields, are what Validate checks
// and what its Usage says: its extremes pass, a value just beyond either is refused as a
// *FieldError for its key, and the usage names both ends.
func TestFieldLimits(t *testing.T) {
	for _, f := range Fields() {
		if f.Min == f.Max {
			continue // seed: any integer
		}
		set := func(v float64) error {
			text := strconv.FormatFloat(v, 'f', -1, 64)
			if f.Count > 0 {
				text = strings.TrimSuffix(strings.Repeat(text+",", f.Count), ",")
			}
			c := DefaultConfig()
			c.TrainImages = 0 // batch may then be as large as it likes
			if err := f.Set(&c, text); err != nil {
				t.Fatalf("%s=%s: %v", f.Key, text, err)
			}
			return c.Validate()
		}
		step := 1.0
		if !f.Integer {
			step = f.Max / 1000
		}
		low := f.Min
		if f.MinExclusive {
			low = f.Min + step
		}
		for _, v := range []float64{low, f.Max} {
			if err := set(v); err != nil {
				t.Errorf("%s=%v, within its limits: %v", f.Key, v, err)
			}
		}
		for _, v := range []float64{low - step, f.Max + step} {
			var fe *FieldError
			if err := set(v); !errors.As(err, &fe) || fe.Key != f.Key {
				t.Errorf("%s=%v, outside its limits: %v, want a *FieldError for %s", f.Key, v, err, f.Key)
			}
		}
		for _, end := range []float64{f.Min, f.Max} {
			if n := strconv.FormatFloat(end, 'f', -1, 64); !strings.Contains(f.Usage, n) {
				t.Errorf("%s: usage %q does not say its limit %s", f.Key, f.Usage, n)
			}
		}
	}
}
