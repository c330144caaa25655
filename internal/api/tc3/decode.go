package tc3

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decode reads body strictly into dst: one JSON object, known fields only,
// spelled exactly and given once, each of the right type. Errors are InvalidParameter, UnknownParameter or
// MissingParameter, naming the field but never echoing a value.
func decode(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return wire(codeInvalidParameter, "The request body must be a JSON object.")
	}
	if err := checkFields(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return wire(codeInvalidParameter, "The request body must hold exactly one JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return wire(codeInvalidParameter, "The request body must be a JSON object.")
		}
		return wire(codeInvalidParameter, fmt.Sprintf("The parameter `%s` must be of type %s.", field, jsonType(typeErr.Type.String())))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return wire(codeInvalidParameter, "The request body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return wire(codeUnknownParameter, fmt.Sprintf("The parameter %s is not recognized.", clip(name)))
	}
	return wire(codeInvalidParameter, "The request body could not be decoded.")
}

// jsonType names a Go type the way a JSON client thinks of it.
func jsonType(goType string) string {
	switch strings.TrimLeft(goType, "*[]") {
	case "string":
		return "String"
	case "bool":
		return "Boolean"
	case "int64", "uint64", "int", "uint":
		if strings.HasPrefix(goType, "[]") {
			return "Array of Integer"
		}
		return "Integer"
	}
	if strings.HasPrefix(goType, "[]") {
		return "Array"
	}
	return "Object"
}

// clip bounds a client-sent string quoted back in an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func required(name, v string) error {
	if v == "" {
		return wire(codeMissingParameter, fmt.Sprintf("The parameter `%s` is required.", name))
	}
	return nil
}
