package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The JSON tree a document decodes into. Unlike map[string]any it keeps
// members in order and lets the decoder refuse a key given twice, which
// encoding/json would silently resolve to the last value: two readers of
// one policy must never disagree about what it says.
type (
	object []member
	member struct {
		key string
		val any // object, []any, string, json.Number, bool or nil
	}
)

// maxDepth bounds nesting. A policy needs six levels
// (Statement → [] → {} → Condition → operator → key → []).
const maxDepth = 16

// decodeJSON decodes exactly one JSON value. It rejects invalid UTF-8,
// which encoding/json would replace, and repeated keys.
func decodeJSON(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("the document is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d levels deep", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err, dec)
	}
	switch tok {
	case json.Delim('{'):
		return decodeObject(dec, depth)
	case json.Delim('['):
		return decodeArray(dec, depth)
	}
	return tok, nil
}

func decodeObject(dec *json.Decoder, depth int) (object, error) {
	obj := object{}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err, dec)
		}
		key, ok := tok.(string)
		if !ok { // the decoder allows nothing else here
			return nil, fmt.Errorf("object key is not a string at byte %d", dec.InputOffset())
		}
		if seen[key] {
			return nil, fmt.Errorf("key %s appears twice in one object", quote(key))
		}
		seen[key] = true
		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		obj = append(obj, member{key, v})
	}
	_, err := dec.Token() // '}'
	return obj, jsonError(err, dec)
}

func decodeArray(dec *json.Decoder, depth int) ([]any, error) {
	arr := []any{}
	for dec.More() {
		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	_, err := dec.Token() // ']'
	return arr, jsonError(err, dec)
}

// jsonError words a decoder error with the byte offset it happened at.
func jsonError(err error, dec *json.Decoder) error {
	switch {
	case err == nil:
		return nil
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%v at byte %d", syn, syn.Offset)
	}
	return fmt.Errorf("%v at byte %d", err, dec.InputOffset())
}

// quote quotes s for a message, shortening a long s.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
