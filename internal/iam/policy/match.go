package policy

import (
	"strings"
	"unicode/utf8"
)

// match reports whether s matches pattern, in which * stands for any run of
// characters (none included) and ? for exactly one character; every other
// byte stands for itself. With fold, ASCII letters match in either case.
// With escaped, a backslash makes the pattern byte after it literal: that
// is how a substituted policy variable keeps a * in its value from acting
// as a wildcard.
//
// It never allocates and takes O(len(pattern)·len(s)) time at worst: after
// a mismatch it only ever resumes from the last star, which is enough for
// patterns of * and ? (a later star can absorb anything an earlier one
// could).
func match(pattern, s string, fold, escaped bool) bool {
	if pattern == "*" {
		return true
	}
	px, sx := 0, 0
	star, restart := -1, 0 // the last star's index, and where in s it resumes
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; {
			case c == '*':
				star, restart = px, sx
				px++
				continue
			case c == '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px, sx = px+1, sx+n
					continue
				}
			default:
				width := 1
				if escaped && c == '\\' && px+1 < len(pattern) {
					c, width = pattern[px+1], 2
				}
				if sx < len(s) && sameByte(c, s[sx], fold) {
					px, sx = px+width, sx+1
					continue
				}
			}
		}
		// Mismatch: let the last star absorb one more character (a whole
		// rune, so that ? never starts inside one).
		if star < 0 || restart >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[restart:])
		restart += n
		if c, ok := literalAfter(pattern, star, fold, escaped); ok {
			// Skip ahead to where the literal after the star occurs.
			i := strings.IndexByte(s[restart:], c)
			if i < 0 {
				return false
			}
			restart += i
		}
		px, sx = star+1, restart
	}
	return true
}

// literalAfter returns the pattern byte after the star at index star when
// it is an ASCII character that matches only itself. An ASCII byte always
// starts a rune, so jumping to it keeps ? aligned to runes.
func literalAfter(pattern string, star int, fold, escaped bool) (byte, bool) {
	if star+1 >= len(pattern) {
		return 0, false
	}
	switch c := pattern[star+1]; {
	case c >= utf8.RuneSelf, c == '*', c == '?', escaped && c == '\\':
		return 0, false
	case fold && 'a' <= lowerASCII(c) && lowerASCII(c) <= 'z':
		return 0, false // it could match in either case
	default:
		return c, true
	}
}

func sameByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	return fold && lowerASCII(a) == lowerASCII(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// segments splits an ARN or a qcs resource name at its first five colons;
// the sixth segment keeps any further colons. It reports false for a
// string with fewer than five colons.
func segments(s string) (seg [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return seg, false
		}
		seg[i], s = s[:j], s[j+1:]
	}
	seg[5] = s
	return seg, true
}

// matchARN matches an ARN (or qcs name) the way ArnLike does: segment by
// segment, each segment a pattern of its own, so a * never reaches across
// a colon into the next segment.
func matchARN(pattern, s string, escaped bool) bool {
	if pattern == "*" {
		return true
	}
	p, ok := segments(pattern)
	if !ok {
		return false
	}
	v, ok := segments(s)
	if !ok {
		return false
	}
	for i := range p {
		if !match(p[i], v[i], false, escaped) {
			return false
		}
	}
	return true
}

// matchQCS matches a CAM resource pattern
// (qcs:project:service:region:account:resource) against a resource name.
// As in CAM, the project is ignored, an empty service or region stands for
// all, and an empty account for owner's root (uin/owner); the other
// segments are patterns of their own.
func matchQCS(pattern, name, owner string, escaped bool) bool {
	if pattern == "*" {
		return true
	}
	p, ok := segments(pattern)
	if !ok {
		return false
	}
	n, ok := segments(name)
	if !ok || !match(p[0], n[0], false, escaped) {
		return false
	}
	if p[2] != "" && !match(p[2], n[2], false, escaped) {
		return false
	}
	if p[3] != "" && !match(p[3], n[3], false, escaped) {
		return false
	}
	if p[4] == "" {
		acct, isUIN := strings.CutPrefix(n[4], "uin/")
		if !isUIN || owner == "" || acct != owner {
			return false
		}
	} else if !match(p[4], n[4], false, escaped) {
		return false
	}
	return match(p[5], n[5], false, escaped)
}

// resourceAccount returns the account a resource name names: the fifth
// segment of an ARN, or of a qcs name without its "uin/". It returns "" for
// anything else.
func resourceAccount(name string) string {
	seg, ok := segments(name)
	switch {
	case !ok:
		return ""
	case seg[0] == "qcs":
		acct, _ := strings.CutPrefix(seg[4], "uin/")
		return acct
	case seg[0] == "arn":
		return seg[4]
	}
	return ""
}
