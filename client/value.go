package client

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"unicode/utf8"
)

// Value is a secret value: text (SecretString) or bytes (SecretBinary).
// The zero Value is empty. Its String, GoString, Format, LogValue and
// MarshalJSON print "[redacted]", so a value does not reach a log by
// accident; read it with Text or Bytes.
type Value struct {
	b      []byte
	binary bool
}

// Text returns a text value.
func Text(s string) Value { return Value{b: []byte(s)} }

// Binary returns a binary value holding a copy of b.
func Binary(b []byte) Value { return Value{b: append([]byte(nil), b...), binary: true} }

// Text returns the value as a string (a binary value's bytes, unconverted).
func (v Value) Text() string { return string(v.b) }

// Bytes returns a copy of the value's bytes.
func (v Value) Bytes() []byte { return append([]byte(nil), v.b...) }

// IsBinary reports whether the value was stored as SecretBinary.
func (v Value) IsBinary() bool { return v.binary }

// IsZero reports whether v is the zero Value.
func (v Value) IsZero() bool { return len(v.b) == 0 && !v.binary }

// Len returns the value's length in bytes.
func (v Value) Len() int { return len(v.b) }

// Equal reports whether v and o hold the same kind and bytes, comparing
// in constant time.
func (v Value) Equal(o Value) bool {
	return v.binary == o.binary && subtle.ConstantTimeCompare(v.b, o.b) == 1
}

// String is "[redacted]". It cannot fail.
func (v Value) String() string { return "[redacted]" }

// GoString is String.
func (v Value) GoString() string { return v.String() }

// Format prints String for every verb.
func (v Value) Format(f fmt.State, _ rune) { io.WriteString(f, v.String()) }

// LogValue is String, for log/slog.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON encodes "[redacted]": encode Text or Bytes yourself when you
// mean to. It cannot fail.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// wireValue is the SecretString / SecretBinary pair of a request.
type wireValue struct {
	SecretString *string `json:",omitempty"`
	SecretBinary *string `json:",omitempty"`
}

func toWire(v Value) wireValue {
	if v.binary {
		s := base64.StdEncoding.EncodeToString(v.b)
		return wireValue{SecretBinary: &s}
	}
	s := string(v.b)
	return wireValue{SecretString: &s}
}

// fromWire reads a GetSecretValue answer: SecretBinary when it is set,
// else SecretString.
func fromWire(str, bin string) (Value, error) {
	if bin == "" {
		return Text(str), nil
	}
	b, err := base64.StdEncoding.DecodeString(bin)
	if err != nil {
		return Value{}, fmt.Errorf("client: SecretBinary is not base64: %w", err)
	}
	return Value{b: b, binary: true}, nil
}

// ValidText reports whether b can be stored as a text value (UTF-8).
func ValidText(b []byte) bool { return utf8.Valid(b) }
