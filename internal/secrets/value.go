package secrets

import (
	"bytes"
	"fmt"
	"log/slog"
)

const redacted = "[redacted]"

// Value is a secret value: a string or binary bytes. It prints as
// [redacted] through fmt, %#v and slog, so it cannot reach a log by accident.
type Value struct {
	b      []byte
	binary bool
}

// StringValue returns a string value.
func StringValue(s string) Value { return Value{b: []byte(s)} }

// BinaryValue returns a binary value holding a copy of b.
func BinaryValue(b []byte) Value { return Value{b: bytes.Clone(b), binary: true} }

// Bytes returns the value's bytes. The caller must not keep them longer than it needs.
func (v Value) Bytes() []byte { return v.b }

// Text returns a string value's text.
func (v Value) Text() string { return string(v.b) }

// IsBinary reports whether the value is binary.
func (v Value) IsBinary() bool { return v.binary }

// Len returns the value's size in bytes.
func (v Value) Len() int { return len(v.b) }

// Equal reports whether two values are the same kind with the same bytes.
func (v Value) Equal(w Value) bool { return v.binary == w.binary && bytes.Equal(v.b, w.b) }

// String hides the value.
func (Value) String() string { return redacted }

// GoString hides the value.
func (Value) GoString() string { return redacted }

// Format hides the value from every verb.
func (Value) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// LogValue hides the value from structured logs.
func (Value) LogValue() slog.Value { return slog.StringValue(redacted) }
