package tc3

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/coffer-secrets/coffer/internal/jsonscan"
)

// scanFields is checkFields without encoding/json: it walks body, a JSON
// object, byte by byte against the shape of t and returns true, and
// checkFields's answer, for the bodies it can judge. It returns false, to
// leave body to tokenFields, for a member name with an escape or a byte
// outside ASCII (the names are compared decoded), nesting deeper than
// maxScanDepth, and anything that is not JSON (the decoder reports it).
// What follows the object is the decoder's to judge, as it is for
// tokenFields.
func scanFields(body []byte, t reflect.Type) (judged bool, err error) {
	s := fieldScanner{jsonscan.Scanner{In: body}}
	s.Space()
	if !s.At('{') {
		return false, nil
	}
	if err := s.value(t, "", 0); err != errSyntax {
		return true, err
	}
	return false, nil
}

// maxScanDepth bounds the nesting scanFields walks.
const maxScanDepth = 32

type fieldScanner struct{ jsonscan.Scanner }

// value walks the value at Pos, of type t (any when nil).
func (s *fieldScanner) value(t reflect.Type, path string, depth int) error {
	s.Space()
	if s.Pos >= len(s.In) || depth > maxScanDepth {
		return errSyntax
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case s.At('{'):
		return s.object(t, path, depth)
	case s.At('['):
		return s.array(t, path, depth)
	case s.At('"'):
		_, _, ok := s.str()
		return syntaxUnless(ok)
	case s.StartsNumber():
		return syntaxUnless(s.Number())
	}
	return syntaxUnless(s.Literal() != nil)
}

func syntaxUnless(ok bool) error {
	if ok {
		return nil
	}
	return errSyntax
}

// str reads the string at Pos: its bytes between the quotes, whether it
// holds an escape, and whether it is a JSON string at all.
func (s *fieldScanner) str() (raw []byte, escaped, ok bool) {
	s.Pos++ // the opening quote
	start := s.Pos
	for s.Pos < len(s.In) {
		c := s.In[s.Pos]
		switch {
		case c == '"':
			s.Pos++
			return s.In[start : s.Pos-1], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			s.Pos++
			if s.Pos >= len(s.In) {
				return nil, false, false
			}
			switch s.In[s.Pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.Pos+4 >= len(s.In) {
					return nil, false, false
				}
				if _, err := strconv.ParseUint(string(s.In[s.Pos+1:s.Pos+5]), 16, 16); err != nil {
					return nil, false, false
				}
				s.Pos += 4
			default:
				return nil, false, false
			}
		}
		s.Pos++
	}
	return nil, false, false
}

// next reads the delimiter after a member or an element: true at the
// closing one.
func (s *fieldScanner) next(closing byte) (bool, error) {
	end, ok := s.Next(closing)
	return end, syntaxUnless(ok)
}

func (s *fieldScanner) array(t reflect.Type, path string, depth int) error {
	s.Pos++
	var elem reflect.Type
	if t != nil && t.Kind() == reflect.Slice {
		elem = t.Elem()
	}
	if s.Empty(']') {
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
	s.Pos++
	var fields map[string]reflect.Type
	isStruct := t != nil && t.Kind() == reflect.Struct
	if isStruct {
		fields = fieldsOf(t)
	}
	if s.Empty('}') {
		return nil
	}
	var seen []string
	for {
		s.Space()
		if !s.At('"') {
			return errSyntax
		}
		raw, escaped, ok := s.str()
		if !ok || escaped || !ascii(raw) {
			// An escaped name, or one encoding/json would mend (invalid
			// UTF-8), is compared decoded: tokenFields.
			return errSyntax
		}
		s.Space()
		if !s.At(':') {
			return errSyntax
		}
		s.Pos++
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
