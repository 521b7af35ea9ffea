package session

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/mnist-trainer/mnist/model"
)

// ParseSettings reads settings written as a query string, "preset=kernel-4&epochs=1" (a leading
// "?" is allowed), for Configure and Describe.
func ParseSettings(query string) (url.Values, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return nil, fmt.Errorf("settings: %v", err)
	}
	return q, nil
}

// SettingsOf returns settings given as key: value, for Configure and Describe.
func SettingsOf(values map[string]string) url.Values {
	q := url.Values{}
	for k, v := range values {
		q.Set(k, v)
	}
	return q
}

// CheckLocked refuses the network of a weights file, cfg, where it differs from what the course
// locked: locked is key: value (the page's lock=). Only settings that shape the weights count
// (filters, kernel, dense, …): a file's epochs or learning rate change no weight, and the page
// keeps its locked values of those anyway. The error has code "locked" and the setting's key.
func CheckLocked(cfg model.Config, locked map[string]string) error {
	for _, f := range model.Fields() { // in the settings' order, so the message names the first
		want, ok := locked[f.Key]
		if !ok || f.Get(&cfg) == want {
			continue
		}
		as := cfg
		if f.Set(&as, want) != nil || !slices.EqualFunc(as.Params(), cfg.Params(), func(a, b model.ParamSpec) bool {
			return a.Name == b.Name && slices.Equal(a.Shape, b.Shape)
		}) {
			return Coded(CodeLocked, f.Key, fmt.Errorf("%s: the course fixed it at %s, and this file's network has %s", f.Key, want, f.Get(&cfg)))
		}
	}
	return nil
}
