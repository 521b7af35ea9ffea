package session

import (
	"errors"

	"github.com/mnist-trainer/mnist/model"
)

// The codes of the errors the page sees (web/protocol.md, "Errors"): every error a Session call
// returns has one of these, through ErrorCode, and the key of the setting at fault where one is.
// The page branches on the code, never on the message, which is written for people and may be
// reworded.
const (
	CodeInvalidSetting = "invalid-setting" // a setting's value is refused; key: the setting
	CodeMemory         = "memory"          // the network needs more memory than a tab gives; key: the setting that drives it
	CodeLocked         = "locked"          // a weights file's network differs in a setting the course fixed; key: it
	CodeDiverged       = "diverged"        // the run's loss diverged; key: "lr"
	CodeAborted        = "aborted"         // the page ended the run: another worker failed
	CodeBusy           = "busy"            // a training run is in progress
	CodeNoRun          = "no-run"          // pause, resume or stop, with no run in progress
	CodeNotLoaded      = "not-loaded"      // the MNIST data is not loaded yet
	CodeNoEvaluation   = "no-evaluation"   // cellDigits before an evaluation of the current model
	CodeNoModel        = "no-model"        // inspect of a key whose model is not loaded, without its weights
	CodeInvalidWeights = "invalid-weights" // a weights file that cannot be loaded
	CodeInvalidDigits  = "invalid-digits"  // My digits' files that cannot be read, or a set of digits that is not one
	CodeInternal       = "internal"        // a panic, recovered: a bug
	CodeFailed         = "failed"          // anything else; the message says what
)

// codedError gives err the code the page sees, and the key of the setting it concerns ("" for none).
type codedError struct {
	code, key string
	err       error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// Coded returns err with code and key (protocol.md, "Errors"); its message is err's.
func Coded(code, key string, err error) error { return &codedError{code: code, key: key, err: err} }

// ErrorCode returns err's code and key: those Coded gave it, or those of model's typed errors
// (model.FieldError names the setting, model.MemoryError says it is one of memory, and
// model.ErrDiverged marks the learning rate). Any other error is CodeFailed.
func ErrorCode(err error) (code, key string) {
	var (
		ce *codedError
		fe *model.FieldError
		me *model.MemoryError
	)
	switch {
	case errors.As(err, &ce):
		return ce.code, ce.key
	case errors.Is(err, model.ErrDiverged):
		return CodeDiverged, "lr" // the page marks the learning rate
	case errors.As(err, &fe):
		if errors.As(err, &me) {
			return CodeMemory, fe.Key
		}
		return CodeInvalidSetting, fe.Key
	case errors.Is(err, model.ErrUnknownPreset):
		return CodeInvalidSetting, "preset"
	}
	return CodeFailed, ""
}
