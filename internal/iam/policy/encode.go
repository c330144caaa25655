package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
)

// MarshalJSON encodes the document canonically in its own dialect: keys in
// a fixed order, every list as a JSON array, maps sorted. Parse reads the
// result back into an equal Document. It returns an error for a document
// without a known dialect.
func (d *Document) MarshalJSON() ([]byte, error) {
	if d.Dialect != AWS && d.Dialect != CAM {
		return nil, errors.New("policy: document has no dialect")
	}
	w := writer{cam: d.Dialect == CAM}
	w.document(d)
	return w.buf.Bytes(), nil
}

// String returns the canonical JSON encoding, or "" for a document without
// a known dialect.
func (d *Document) String() string {
	b, err := d.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

// writer builds canonical JSON. Each object method writes its braces; key
// writes the comma before every member but the first.
type writer struct {
	buf   bytes.Buffer
	cam   bool
	first bool
}

func (w *writer) open()  { w.buf.WriteByte('{'); w.first = true }
func (w *writer) close() { w.buf.WriteByte('}'); w.first = false }

func (w *writer) key(element string) {
	if !w.first {
		w.buf.WriteByte(',')
	}
	w.first = false
	if w.cam {
		element = strings.ToLower(element)
	}
	w.str(element)
	w.buf.WriteByte(':')
}

func (w *writer) str(s string) {
	b, _ := json.Marshal(s) // a string always encodes
	w.buf.Write(b)
}

func (w *writer) list(vals []string) {
	w.buf.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.str(v)
	}
	w.buf.WriteByte(']')
}

func (w *writer) document(d *Document) {
	w.open()
	w.key("Version")
	w.str(d.Version)
	if d.ID != "" {
		w.key("Id")
		w.str(d.ID)
	}
	if d.Principals != nil {
		w.key("Principal")
		w.principals(d.Principals)
	}
	w.key("Statement")
	w.buf.WriteByte('[')
	for i := range d.Statements {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.statement(&d.Statements[i])
	}
	w.buf.WriteByte(']')
	w.close()
}

func (w *writer) statement(s *Statement) {
	w.open()
	if s.Sid != "" {
		w.key("Sid")
		w.str(s.Sid)
	}
	w.key("Effect")
	effect := s.Effect.String()
	if w.cam {
		effect = strings.ToLower(effect)
	}
	w.str(effect)
	w.optPrincipals("Principal", s.Principals)
	w.optPrincipals("NotPrincipal", s.NotPrincipals)
	w.optList("Action", s.Actions)
	w.optList("NotAction", s.NotActions)
	w.optList("Resource", s.Resources)
	w.optList("NotResource", s.NotResources)
	if s.Conditions != nil {
		w.key("Condition")
		w.conditions(s.Conditions)
	}
	w.close()
}

func (w *writer) optList(element string, vals []string) {
	if vals != nil {
		w.key(element)
		w.list(vals)
	}
}

func (w *writer) optPrincipals(element string, p *Principals) {
	if p != nil {
		w.key(element)
		w.principals(p)
	}
}

func (w *writer) principals(p *Principals) {
	if p.Wildcard {
		w.str("*")
		return
	}
	w.buf.WriteByte('{')
	for i, typ := range slices.Sorted(maps.Keys(p.ByType)) {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.str(typ)
		w.buf.WriteByte(':')
		w.list(p.ByType[typ])
	}
	w.buf.WriteByte('}')
}

func (w *writer) conditions(cs Conditions) {
	w.buf.WriteByte('{')
	for i, op := range slices.Sorted(maps.Keys(cs)) {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.str(op)
		w.buf.WriteString(":{")
		for j, key := range slices.Sorted(maps.Keys(cs[op])) {
			if j > 0 {
				w.buf.WriteByte(',')
			}
			w.str(key)
			w.buf.WriteByte(':')
			w.list(cs[op][key])
		}
		w.buf.WriteByte('}')
	}
	w.buf.WriteByte('}')
}
