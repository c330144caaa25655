package store

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// TestPrefixRange checks that a string lies in the range of a prefix
// exactly when it starts with it, for prefixes and strings drawn near the
// edges (the last code point, surrogates, invalid bytes): any string under
// an invalid prefix, valid UTF-8 under a valid one (names are); and that
// the end of a valid prefix's range is valid UTF-8.
func TestPrefixRange(t *testing.T) {
	edges := rapid.SampledFrom([]string{"a", "z", "/", "\x7f", "é", "\uD7FF", "\uE000", "\U0010FFFF", "\xff", "\x80", ""})
	str := rapid.Custom(func(t *rapid.T) string {
		return strings.Join(rapid.SliceOfN(edges, 0, 4).Draw(t, "parts"), "")
	})
	for _, c := range []struct{ prefix, s string }{
		{"\uD7FF", "\uE000"},             // the end skips the surrogates
		{"\uD7FF", "\uD7FFx"},            //
		{"a\U0010FFFF", "b"},             // the last code point has no successor
		{"a\U0010FFFF", "a\U0010FFFFz"},  //
		{"\U0010FFFF", "\U0010FFFF\x00"}, // no end at all
		{"\xff", "\xff\x00"},             // invalid UTF-8: bytes
		{"a\xff", "b"},                   //
		{"", "anything"},                 //
	} {
		from, to := PrefixRange(c.prefix)
		if in := from <= c.s && (to == "" || c.s < to); in != strings.HasPrefix(c.s, c.prefix) {
			t.Errorf("PrefixRange(%q) = [%q, %q): holds %q is %v", c.prefix, from, to, c.s, in)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		prefix, s := str.Draw(t, "prefix"), str.Draw(t, "s")
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 1: // starts with the prefix
			s = prefix + s
		case 2: // shares all of the prefix but its last character
			_, n := utf8.DecodeLastRuneInString(prefix)
			s = prefix[:len(prefix)-n] + s
		}
		if utf8.ValidString(prefix) && !utf8.ValidString(s) {
			return // outside what a valid prefix's range promises: names are valid UTF-8
		}
		from, to := PrefixRange(prefix)
		in := from <= s && (to == "" || s < to)
		if in != strings.HasPrefix(s, prefix) {
			t.Fatalf("PrefixRange(%q) = [%q, %q): holds %q is %v, HasPrefix %v", prefix, from, to, s, in, !in)
		}
		if utf8.ValidString(prefix) && !utf8.ValidString(to) {
			t.Fatalf("PrefixRange(%q): end %q is not valid UTF-8", prefix, to)
		}
	})
}
