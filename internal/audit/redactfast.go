package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/jsonscan"
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
	p := paramScanner{Scanner: jsonscan.Scanner{In: body}, r: r, out: make([]byte, 0, len(body)+16)}
	p.Space()
	if !p.At('{') || !p.value(0) {
		return nil, false
	}
	p.Space()
	if p.Pos != len(p.In) {
		return nil, false
	}
	return p.out, true
}

// maxFastDepth bounds the nesting fastParams takes.
const maxFastDepth = 16

type paramScanner struct {
	jsonscan.Scanner
	r   *Redactor
	out []byte
}

type member struct {
	name string
	val  []byte // the member's record: "name":value
}

// value appends the record of the value at Pos to out.
func (p *paramScanner) value(depth int) bool {
	p.Space()
	if p.Pos >= len(p.In) || depth > maxFastDepth {
		return false
	}
	switch {
	case p.At('{'):
		return p.object(depth)
	case p.At('['):
		return p.array(depth)
	case p.At('"'):
		s, ok := p.str()
		if ok {
			p.out = append(append(append(p.out, '"'), s...), '"')
		}
		return ok
	case p.StartsNumber():
		start := p.Pos
		if !p.Number() {
			return false
		}
		p.out = append(p.out, p.In[start:p.Pos]...)
		return true
	}
	lit := p.Literal()
	p.out = append(p.out, lit...)
	return lit != nil
}

// str reads a string at Pos and returns its bytes between the quotes,
// refusing any escape and any byte encoding/json would write otherwise.
func (p *paramScanner) str() ([]byte, bool) {
	p.Pos++ // the opening quote
	start := p.Pos
	for p.Pos < len(p.In) {
		switch c := p.In[p.Pos]; {
		case c == '"':
			s := p.In[start:p.Pos]
			p.Pos++
			return s, true
		case c < 0x20 || c >= 0x7f || c == '\\' || c == '<' || c == '>' || c == '&':
			return nil, false
		}
		p.Pos++
	}
	return nil, false
}

func (p *paramScanner) array(depth int) bool {
	p.Pos++
	p.out = append(p.out, '[')
	if p.Empty(']') {
		p.out = append(p.out, ']')
		return true
	}
	for {
		if !p.value(depth + 1) {
			return false
		}
		end, ok := p.Next(']')
		if !ok {
			return false
		}
		if end {
			p.out = append(p.out, ']')
			return true
		}
		p.out = append(p.out, ',')
	}
}

func (p *paramScanner) object(depth int) bool {
	p.Pos++
	if p.Empty('}') {
		p.out = append(p.out, '{', '}')
		return true
	}
	var members []member
	for {
		p.Space()
		if !p.At('"') {
			return false
		}
		name, ok := p.str()
		if !ok {
			return false
		}
		p.Space()
		if !p.At(':') {
			return false
		}
		p.Pos++
		// The member's record goes to out for now, and is moved into
		// place once the members are sorted.
		mark := len(p.out)
		p.out = append(append(append(p.out, '"'), name...), '"', ':')
		if secretFields[strings.ToLower(string(name))] {
			p.Space()
			if !p.At('"') {
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
		end, ok := p.Next('}')
		if !ok {
			return false
		}
		if end {
			break
		}
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
