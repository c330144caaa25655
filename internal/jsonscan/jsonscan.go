// Package jsonscan holds the JSON lexing the request scanners share (the
// TC3 edge's parameter-name check and the audit log's redaction): white
// space, numbers, literals and the delimiters between members, read as
// RFC 8259 and encoding/json read them. Strings are each scanner's own:
// what they accept in one differs.
package jsonscan

import "bytes"

// Scanner reads In from Pos.
type Scanner struct {
	In  []byte
	Pos int
}

// Space skips white space.
func (s *Scanner) Space() {
	for s.Pos < len(s.In) {
		switch s.In[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// At reports whether the byte at Pos is c.
func (s *Scanner) At(c byte) bool {
	return s.Pos < len(s.In) && s.In[s.Pos] == c
}

// StartsNumber reports whether the byte at Pos can begin a number.
func (s *Scanner) StartsNumber() bool {
	if s.Pos >= len(s.In) {
		return false
	}
	c := s.In[s.Pos]
	return c == '-' || ('0' <= c && c <= '9')
}

// Number reads the number at Pos and reports whether it is one: an
// optional minus, 0 or digits not led by 0, an optional fraction, an
// optional exponent.
func (s *Scanner) Number() bool {
	if s.At('-') {
		s.Pos++
	}
	if s.At('0') {
		s.Pos++
	} else if s.digits() == 0 {
		return false
	}
	if s.At('.') {
		s.Pos++
		if s.digits() == 0 {
			return false
		}
	}
	if s.At('e') || s.At('E') {
		s.Pos++
		if s.At('+') || s.At('-') {
			s.Pos++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *Scanner) digits() int {
	n := 0
	for s.Pos < len(s.In) && '0' <= s.In[s.Pos] && s.In[s.Pos] <= '9' {
		s.Pos++
		n++
	}
	return n
}

var literals = [][]byte{[]byte("true"), []byte("false"), []byte("null")}

// Literal reads true, false or null at Pos, returning it, or nil.
func (s *Scanner) Literal() []byte {
	for _, lit := range literals {
		if bytes.HasPrefix(s.In[s.Pos:], lit) {
			s.Pos += len(lit)
			return lit
		}
	}
	return nil
}

// Next reads the delimiter after a member or an element, after white
// space: end is true at closing, false at a comma; ok is false at
// anything else.
func (s *Scanner) Next(closing byte) (end, ok bool) {
	s.Space()
	switch {
	case s.At(','):
		s.Pos++
		return false, true
	case s.At(closing):
		s.Pos++
		return true, true
	}
	return false, false
}

// Empty reads the closing delimiter of an empty object or array, after
// white space, and reports whether it was there.
func (s *Scanner) Empty(closing byte) bool {
	s.Space()
	if s.At(closing) {
		s.Pos++
		return true
	}
	return false
}
