package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// epoch is a timestamp on the wire: seconds since the epoch, with
// milliseconds, as a JSON number (AWS sends 1523477145.713).
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// at returns t as a wire timestamp, or nil (absent) for the zero time.
func at(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// decode reads body into dst. Unlike Tencent, AWS ignores members it does
// not know (newer SDKs send new ones) and takes null as absent. A body that
// is not a JSON object, or a member of the wrong type, is a
// SerializationException.
func decode(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return fail(errSerialization, "The request body must be a JSON object.")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fail(errSerialization, fmt.Sprintf("The member %s has the wrong type.", clip(typeErr.Field)))
		}
		return fail(errSerialization, "The request body is not valid JSON.")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return fail(errSerialization, "The request body must hold exactly one JSON object.")
	}
	return nil
}

func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
