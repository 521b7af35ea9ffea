package model

import (
	"strings"
	"testing"
)

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
