package tc3

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// checkFields walks body against the shape of t and refuses what
// encoding/json would let through: a parameter name in another letter case
// (Tencent's names are case-sensitive) and a parameter given twice. Type and
// syntax errors are left to the decoder, which reports them better.
//
// A scanner of its own walks the bodies it can (scanFields); the rest go
// through encoding/json's tokens (tokenFields). FuzzDecode checks that both
// ways give the same answer.
func checkFields(body []byte, t reflect.Type) error {
	if judged, err := scanFields(body, t); judged {
		return err
	}
	return tokenFields(body, t)
}

// tokenFields is checkFields over encoding/json's tokens.
func tokenFields(body []byte, t reflect.Type) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := walk(d, t, ""); err != errSyntax {
		return err
	}
	return nil // the decoder reports syntax errors
}

// errSyntax stops the walk at the first syntax error.
var errSyntax = errors.New("syntax error")

func walk(d *json.Decoder, t reflect.Type, path string) error {
	tok, err := d.Token()
	if err != nil {
		return errSyntax
	}
	if t == nil {
		t = reflect.TypeFor[any]() // a shape the request type does not have: the decoder refuses it
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(d, t, path)
	case json.Delim('['):
		return walkArray(d, t, path)
	}
	return nil
}

func walkObject(d *json.Decoder, t reflect.Type, path string) error {
	fields := fieldsOf(t)
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return errSyntax
		}
		key, _ := tok.(string)
		if seen[key] {
			return wire(codeInvalidParameter, fmt.Sprintf("The parameter `%s%s` is given more than once.", path, clip(key)))
		}
		seen[key] = true
		ft, ok := fields[key]
		if t.Kind() == reflect.Struct && !ok {
			return wire(codeUnknownParameter, fmt.Sprintf("The parameter %s%s is not recognized.", path, clip(key)))
		}
		if err := walk(d, ft, path+key+"."); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // '}'
		return errSyntax
	}
	return nil
}

func walkArray(d *json.Decoder, t reflect.Type, path string) error {
	elem := reflect.TypeFor[any]()
	if t.Kind() == reflect.Slice {
		elem = t.Elem()
	}
	for i := 0; d.More(); i++ {
		if err := walk(d, elem, fmt.Sprintf("%s%d.", path, i)); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // ']'
		return errSyntax
	}
	return nil
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf returns the exported field names of a struct type and their types
// (Coffer's request types use Go field names as the JSON names).
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := make(map[string]reflect.Type, t.NumField())
	for _, sf := range reflect.VisibleFields(t) {
		if sf.IsExported() && !sf.Anonymous {
			f[sf.Name] = sf.Type
		}
	}
	fieldCache.Store(t, f)
	return f
}
