package tc3

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
)

// scanFields is checkFields without encoding/json: it walks body, a JSON
// object, byte by byte against the shape of t and returns checkFields's
// answer, and true, for the bodies it can judge. It returns false, to
// leave body to tokenFields, for a member name with an escape or a byte
// outside ASCII (the names are compared decoded), nesting deeper than maxScanDepth, and anything
// that is not JSON (the decoder reports it). What follows the object is
// the decoder's to judge, as it is for tokenFields.
func scanFields(body []byte, t reflect.Type) (error, bool) {
	s := fieldScanner{in: body}
	s.space()
	if s.pos >= len(s.in) || s.in[s.pos] != '{' {
		return nil, false
	}
	err := s.value(t, "", 0)
	if err == errSyntax {
		return nil, false
	}
	return err, true
}

// maxScanDepth bounds the nesting scanFields walks.
const maxScanDepth = 32

type fieldScanner struct {
	in  []byte
	pos int
}

func (s *fieldScanner) space() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value walks the value at pos, of type t (any when nil).
func (s *fieldScanner) value(t reflect.Type, path string, depth int) error {
	s.space()
	if s.pos >= len(s.in) || depth > maxScanDepth {
		return errSyntax
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch c := s.in[s.pos]; {
	case c == '{':
		return s.object(t, path, depth)
	case c == '[':
		return s.array(t, path, depth)
	case c == '"':
		_, _, ok := s.str()
		return syntaxUnless(ok)
	case c == '-' || ('0' <= c && c <= '9'):
		return syntaxUnless(s.number())
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s.in[s.pos:], []byte(lit)) {
				s.pos += len(lit)
				return nil
			}
		}
		return errSyntax
	}
}

func syntaxUnless(ok bool) error {
	if ok {
		return nil
	}
	return errSyntax
}

// str reads the string at pos: its bytes between the quotes, whether it
// holds an escape, and whether it is a JSON string at all.
func (s *fieldScanner) str() (raw []byte, escaped, ok bool) {
	s.pos++ // the opening quote
	start := s.pos
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.in[start : s.pos-1], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			s.pos++
			if s.pos >= len(s.in) {
				return nil, false, false
			}
			switch s.in[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.pos+4 >= len(s.in) {
					return nil, false, false
				}
				if _, err := strconv.ParseUint(string(s.in[s.pos+1:s.pos+5]), 16, 16); err != nil {
					return nil, false, false
				}
				s.pos += 4
			default:
				return nil, false, false
			}
		}
		s.pos++
	}
	return nil, false, false
}

// number reads the number at pos and reports whether it is one.
func (s *fieldScanner) number() bool {
	digits := func() int {
		n := 0
		for s.pos < len(s.in) && '0' <= s.in[s.pos] && s.in[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.in[s.pos] == '-' {
		s.pos++
	}
	if s.pos < len(s.in) && s.in[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		return false
	}
	if s.pos < len(s.in) && s.in[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return false
		}
	}
	if s.pos < len(s.in) && (s.in[s.pos] == 'e' || s.in[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.in) && (s.in[s.pos] == '+' || s.in[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// next reads the delimiter after a member or an element: true at the
// closing one, false at a comma.
func (s *fieldScanner) next(closing byte) (bool, error) {
	s.space()
	if s.pos >= len(s.in) {
		return false, errSyntax
	}
	switch s.in[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, errSyntax
}

func (s *fieldScanner) array(t reflect.Type, path string, depth int) error {
	s.pos++
	var elem reflect.Type
	if t != nil && t.Kind() == reflect.Slice {
		elem = t.Elem()
	}
	s.space()
	if s.pos < len(s.in) && s.in[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := s.value(elem, fmt.Sprintf("%s%d.", path, i), depth+1); err != nil {
			return err
		}
		if end, err := s.next(']'); err != nil || end {
			return err
		}
	}
}

func (s *fieldScanner) object(t reflect.Type, path string, depth int) error {
	s.pos++
	var fields map[string]reflect.Type
	isStruct := t != nil && t.Kind() == reflect.Struct
	if isStruct {
		fields = fieldsOf(t)
	}
	s.space()
	if s.pos < len(s.in) && s.in[s.pos] == '}' {
		s.pos++
		return nil
	}
	var seen []string
	for {
		s.space()
		if s.pos >= len(s.in) || s.in[s.pos] != '"' {
			return errSyntax
		}
		raw, escaped, ok := s.str()
		if !ok || escaped || !ascii(raw) {
			// An escaped name, or one encoding/json would mend (invalid
			// UTF-8), is compared decoded: tokenFields.
			return errSyntax
		}
		s.space()
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		key := string(raw)
		for _, k := range seen {
			if k == key {
				return wire(codeInvalidParameter, fmt.Sprintf("The parameter `%s%s` is given more than once.", path, clip(key)))
			}
		}
		seen = append(seen, key)
		ft, known := fields[key]
		if isStruct && !known {
			return wire(codeUnknownParameter, fmt.Sprintf("The parameter %s%s is not recognized.", path, clip(key)))
		}
		if err := s.value(ft, path+key+".", depth+1); err != nil {
			return err
		}
		if end, err := s.next('}'); err != nil || end {
			return err
		}
	}
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
