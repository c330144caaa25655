package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// fastParams makes Params's record of body, a JSON object, without
// encoding/json, for the bodies it can take whole: strings of printable
// ASCII without escapes or the characters encoding/json escapes for HTML
// (<, >, &), no member named twice, every secret-carrying member a string,
// nesting at most maxFastDepth deep, nothing after the object. It returns
// false for any other body, which Params then records the reflective way;
// FuzzParams checks that both ways agree on every body this one takes.
//
// The record is what encoding/json makes of the decoded body: members
// sorted by name at every level, no white space, numbers as written.
func (r *Redactor) fastParams(body []byte) ([]byte, bool) {
	p := paramScanner{r: r, in: body, out: make([]byte, 0, len(body)+16)}
	p.space()
	if p.pos >= len(body) || body[p.pos] != '{' || !p.value(0) {
		return nil, false
	}
	p.space()
	if p.pos != len(p.in) {
		return nil, false
	}
	return p.out, true
}

// maxFastDepth bounds the nesting fastParams takes.
const maxFastDepth = 16

type paramScanner struct {
	r   *Redactor
	in  []byte
	pos int
	out []byte
}

type member struct {
	name string
	val  []byte // the member's record: "name":value
}

func (p *paramScanner) space() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value appends the record of the value at pos to out.
func (p *paramScanner) value(depth int) bool {
	p.space()
	if p.pos >= len(p.in) || depth > maxFastDepth {
		return false
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, ok := p.str()
		if ok {
			p.out = append(append(append(p.out, '"'), s...), '"')
		}
		return ok
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				p.out = append(p.out, lit...)
				return true
			}
		}
		return false
	}
}

// str reads a string at pos and returns its bytes between the quotes,
// refusing any escape and any byte encoding/json would write otherwise.
func (p *paramScanner) str() ([]byte, bool) {
	p.pos++ // the opening quote
	start := p.pos
	for p.pos < len(p.in) {
		switch c := p.in[p.pos]; {
		case c == '"':
			s := p.in[start:p.pos]
			p.pos++
			return s, true
		case c < 0x20 || c >= 0x7f || c == '\\' || c == '<' || c == '>' || c == '&':
			return nil, false
		}
		p.pos++
	}
	return nil, false
}

// number copies a number at pos as written, after checking its syntax.
func (p *paramScanner) number() bool {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && '0' <= p.in[p.pos] && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.in[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.in) && p.in[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return false
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return false
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	p.out = append(p.out, p.in[start:p.pos]...)
	return true
}

func (p *paramScanner) array(depth int) bool {
	p.pos++
	p.out = append(p.out, '[')
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		return true
	}
	for {
		if !p.value(depth + 1) {
			return false
		}
		p.space()
		if p.pos >= len(p.in) {
			return false
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			return true
		default:
			return false
		}
	}
}

func (p *paramScanner) object(depth int) bool {
	p.pos++
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '{', '}')
		return true
	}
	var members []member
	for {
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return false
		}
		name, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return false
		}
		p.pos++
		// The member's record goes to out for now, and is moved into
		// place once the members are sorted.
		mark := len(p.out)
		p.out = append(append(append(p.out, '"'), name...), '"', ':')
		if secretFields[strings.ToLower(string(name))] {
			p.space()
			if p.pos >= len(p.in) || p.in[p.pos] != '"' {
				return false // a secret that is not a string: the reflective way
			}
			s, ok := p.str()
			if !ok {
				return false
			}
			p.out = append(append(p.out, '"'), p.r.mac(s)...)
			p.out = append(p.out, '"')
		} else if !p.value(depth + 1) {
			return false
		}
		members = append(members, member{name: string(name), val: slices.Clone(p.out[mark:])})
		p.out = p.out[:mark]
		p.space()
		if p.pos >= len(p.in) {
			return false
		}
		if p.in[p.pos] == '}' {
			p.pos++
			break
		}
		if p.in[p.pos] != ',' {
			return false
		}
		p.pos++
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.name, b.name) })
	p.out = append(p.out, '{')
	for i, m := range members {
		if i > 0 {
			if members[i-1].name == m.name {
				return false // named twice: encoding/json keeps the last
			}
			p.out = append(p.out, ',')
		}
		p.out = append(p.out, m.val...)
	}
	p.out = append(p.out, '}')
	return true
}

// mac is MAC for a string's bytes.
func (r *Redactor) mac(b []byte) string {
	m := hmac.New(sha256.New, r.Key)
	m.Write(b)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}
