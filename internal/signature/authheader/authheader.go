// Package authheader parses the Authorization header shape that HMAC request
// signing schemes share, "ALGORITHM Credential=…, SignedHeaders=…, Signature=…".
// It owns the syntax only; each scheme checks its credential layout and the
// headers it requires, and wraps these errors into its own kinds.
package authheader

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

var partKeys = [...]string{"Credential", "SignedHeaders", "Signature"}

// Split checks that h, trimmed of spaces, opens with algorithm and one space,
// and returns the values of its Credential, SignedHeaders and Signature parts.
// The parts may come in any order, each once, separated by "," with optional
// spaces or tabs. It does not check the values. On failure it returns an
// error whose text quotes only clipped parts of h.
func Split(h, algorithm string) (credential, signedHeaders, signature string, err error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", "", "", errors.New("empty Authorization header")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return "", "", "", fmt.Errorf("algorithm %s is not %s", Clip(alg), algorithm)
	}
	var vals [len(partKeys)]string
	var seen [len(partKeys)]bool
	fields := strings.Split(rest, ",")
	if len(fields) != len(partKeys) {
		return "", "", "", fmt.Errorf("want 3 comma-separated parts, got %d", len(fields))
	}
	for _, f := range fields {
		key, val, _ := strings.Cut(strings.Trim(f, " \t"), "=")
		i := slices.Index(partKeys[:], key)
		if i < 0 || seen[i] {
			return "", "", "", fmt.Errorf("unexpected or repeated part %s", Clip(key))
		}
		vals[i], seen[i] = val, true
	}
	return vals[0], vals[1], vals[2], nil
}

// SignedHeaders splits s at ";" and returns the names. Each must be a
// lower-case RFC 9110 token, and they must be sorted ascending without
// repeats. On failure it returns a nil slice and an error that quotes the
// offending name, clipped.
func SignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	for i, n := range names {
		if !isHeaderName(n) {
			return nil, fmt.Errorf("signed header %s is not a lower-case header name", Clip(n))
		}
		if i > 0 && names[i-1] >= n {
			return nil, fmt.Errorf("signed headers are not sorted or repeat %s", Clip(n))
		}
	}
	return names, nil
}

// isHeaderName reports whether s is a non-empty RFC 9110 token without
// upper-case letters.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// IsVisible reports whether s is non-empty printable ASCII without spaces; it
// is false for "".
func IsVisible(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// IsLowerHex reports whether s is exactly n lower-case hex digits; it is
// false for any other length.
func IsLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Clip quotes a client-sent value for an error text, cut short so a hostile
// header cannot flood the logs. It cannot fail.
func Clip(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
