package policy

import (
	"fmt"
	"strings"
)

// The elements each dialect knows, by their AWS names. CAM spells them in
// lower case but, like Tencent, accepts any letter case: real CAM and COS
// documents mix "version" with "Statement" and "Effect".
var (
	awsDocument  = []string{"Version", "Id", "Statement"}
	camDocument  = []string{"Version", "Principal", "Statement"}
	awsStatement = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	camStatement = []string{"Effect", "Principal", "Action", "Resource", "Condition"}
)

// path locates an element in a message, e.g.
// Statement[1].Condition["Bool"]["aws:SecureTransport"].
type path string

func (p path) elem(name string) path {
	if p == "" {
		return path(name)
	}
	return p + "." + path(name)
}

func (p path) index(i int) path { return p + path(fmt.Sprintf("[%d]", i)) }

func (p path) quoted(k string) path { return p + "[" + path(quote(k)) + "]" }

// parser turns a decoded JSON tree into a Document, collecting a Finding
// for every problem rather than stopping at the first, for Validate.
type parser struct {
	dialect  Dialect
	findings []Finding
}

// parseDocument parses a document of any size.
func parseDocument(doc string) (*Document, []Finding) {
	tree, err := decodeJSON(doc)
	if err != nil {
		return nil, []Finding{{CheckSyntax, "the policy is not valid JSON: " + err.Error()}}
	}
	top, ok := tree.(object)
	if !ok {
		return nil, []Finding{{CheckSyntax, "the policy must be a JSON object"}}
	}
	var p parser
	d := p.document(top)
	if len(p.findings) > 0 {
		return nil, p.findings
	}
	return d, nil
}

// maxFindings bounds the findings kept for one document; a 20 KiB
// document could otherwise yield thousands.
const maxFindings = 100

func (p *parser) fail(check string, at path, format string, args ...any) {
	if len(p.findings) >= maxFindings {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if at != "" {
		msg = string(at) + ": " + msg
	}
	p.findings = append(p.findings, Finding{check, msg})
}

// name spells an element the way the document's dialect does.
func (p *parser) name(element string) string {
	if p.dialect == CAM {
		return strings.ToLower(element)
	}
	return element
}

func (p *parser) document(top object) *Document {
	d := &Document{}
	d.Dialect, d.Version = p.version(top)
	if d.Dialect == 0 {
		return nil
	}
	p.dialect = d.Dialect
	known := awsDocument
	if d.Dialect == CAM {
		known = camDocument
	}
	els := p.members(top, "", known)
	if v, ok := els["Id"]; ok {
		d.ID = p.str(v, "Id", CheckSyntax)
	}
	if v, ok := els["Principal"]; ok {
		d.Principals = p.principals(v, path(p.name("Principal")))
	}
	v, ok := els["Statement"]
	if !ok {
		p.fail(CheckSyntax, "", "missing %s", p.name("Statement"))
		return d
	}
	d.Statements = p.statements(v)
	return d
}

// version finds the dialect from the version, or from the spelling of
// Statement when there is no version (AWS defaults to "2008-10-17"; CAM
// requires one).
func (p *parser) version(top object) (Dialect, string) {
	for _, m := range top {
		if !strings.EqualFold(m.key, "Version") {
			continue
		}
		s, ok := m.val.(string)
		if !ok {
			p.fail(CheckVersion, path(m.key), "must be a string")
			return 0, ""
		}
		switch s {
		case "2012-10-17", "2008-10-17":
			return AWS, s
		case "2.0":
			return CAM, s
		}
		p.fail(CheckVersion, path(m.key), `unknown policy version %s: AWS policies use "2012-10-17" (or "2008-10-17"), CAM policies "2.0"`, quote(s))
		return 0, ""
	}
	for _, m := range top {
		if m.key == "Statement" {
			return AWS, "2008-10-17"
		}
	}
	for _, m := range top {
		if strings.EqualFold(m.key, "Statement") {
			p.fail(CheckVersion, "", `missing version: a CAM policy needs "version":"2.0"`)
			return 0, ""
		}
	}
	p.fail(CheckSyntax, "", "missing Statement")
	return 0, ""
}

// members maps an object's keys onto the element names the dialect knows,
// reporting unknown keys and keys given twice in different letter cases.
func (p *parser) members(obj object, at path, known []string) map[string]any {
	els := make(map[string]any, len(obj))
	for _, m := range obj {
		name, ok := p.element(m.key, known)
		if !ok {
			p.unknownKey(at, m.key, known)
			continue
		}
		if _, dup := els[name]; dup {
			p.fail(CheckSyntax, at, "%s is given twice (CAM keys ignore letter case)", p.name(name))
			continue
		}
		els[name] = m.val
	}
	return els
}

func (p *parser) element(key string, known []string) (string, bool) {
	for _, k := range known {
		if key == k || p.dialect == CAM && strings.EqualFold(key, k) {
			return k, true
		}
	}
	return "", false
}

func (p *parser) unknownKey(at path, key string, known []string) {
	if p.dialect == AWS {
		for _, k := range known {
			if strings.EqualFold(key, k) {
				p.fail(CheckSyntax, at, "unknown key %s: AWS policy keys are case-sensitive (did you mean %q?)", quote(key), k)
				return
			}
		}
	}
	if p.dialect == CAM {
		for _, ks := range [][]string{awsDocument, awsStatement} {
			for _, k := range ks {
				if strings.EqualFold(key, k) {
					p.fail(CheckSyntax, at, `%s is an AWS policy element; a CAM policy (version "2.0") cannot have it`, quote(key))
					return
				}
			}
		}
	}
	p.fail(CheckSyntax, at, "unknown key %s", quote(key))
}

func (p *parser) statements(v any) []Statement {
	at := path(p.name("Statement"))
	var items []any
	indexed := false
	switch v := v.(type) {
	case object:
		items = []any{v}
	case []any:
		items, indexed = v, true
	default:
		p.fail(CheckSyntax, at, "must be an object or a list of objects")
		return nil
	}
	if len(items) == 0 {
		p.fail(CheckSyntax, at, "must hold at least one statement")
		return nil
	}
	sids := make(map[string]bool)
	out := make([]Statement, 0, len(items))
	for i, item := range items {
		here := at
		if indexed {
			here = at.index(i)
		}
		s := p.statement(item, here)
		if s.Sid != "" && sids[s.Sid] {
			p.fail(CheckSyntax, here.elem("Sid"), "%s is used by another statement; Sids must be unique", quote(s.Sid))
		}
		sids[s.Sid] = true
		out = append(out, s)
	}
	return out
}

func (p *parser) statement(v any, at path) Statement {
	var s Statement
	obj, ok := v.(object)
	if !ok {
		p.fail(CheckSyntax, at, "must be an object")
		return s
	}
	known := awsStatement
	if p.dialect == CAM {
		known = camStatement
	}
	els := p.members(obj, at, known)
	if v, ok := els["Sid"]; ok {
		s.Sid = p.str(v, at.elem("Sid"), CheckSyntax)
	}
	s.Effect = p.effect(els, at)
	s.Principals, s.NotPrincipals = p.principalPair(els, at)
	s.Actions, s.NotActions = p.actionPair(els, at)
	s.Resources, s.NotResources = p.resourcePair(els, at)
	if v, ok := els["Condition"]; ok {
		s.Conditions = p.conditions(v, at.elem(p.name("Condition")))
	}
	return s
}

func (p *parser) effect(els map[string]any, at path) Effect {
	v, ok := els["Effect"]
	if !ok {
		p.fail(CheckEffect, at, "missing %s", p.name("Effect"))
		return 0
	}
	at = at.elem(p.name("Effect"))
	s, isString := v.(string)
	got := ""
	if isString {
		got = ", not " + quote(s)
	}
	switch {
	case s == "Allow" || p.dialect == CAM && strings.EqualFold(s, "allow"):
		return Allow
	case s == "Deny" || p.dialect == CAM && strings.EqualFold(s, "deny"):
		return Deny
	case p.dialect == CAM:
		p.fail(CheckEffect, at, `must be "allow" or "deny"%s`, got)
	default:
		p.fail(CheckEffect, at, `must be "Allow" or "Deny" (case-sensitive)%s`, got)
	}
	return 0
}

// either finds an element given in its plain or its Not form. It returns
// the number of forms present, and reports both being given.
func (p *parser) either(els map[string]any, at path, name, check string) (v any, not bool, n int) {
	plain, hasPlain := els[name]
	neg, hasNeg := els["Not"+name]
	switch {
	case hasPlain && hasNeg:
		p.fail(check, at, "has both %s and Not%s", name, name)
		return nil, false, 2
	case hasNeg:
		return neg, true, 1
	case hasPlain:
		return plain, false, 1
	}
	return nil, false, 0
}

func (p *parser) str(v any, at path, check string) string {
	s, ok := v.(string)
	if !ok {
		p.fail(check, at, "must be a string")
	}
	return s
}

// list reads a string or a non-empty list of strings, reporting whether it
// was a list (so messages can name an item by index).
func (p *parser) list(v any, at path, check string) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, false
	case []any:
		if len(v) == 0 {
			p.fail(check, at, "must not be an empty list")
			return nil, true
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail(check, at.index(i), "must be a string")
				return nil, true
			}
			out[i] = s
		}
		return out, true
	}
	p.fail(check, at, "must be a string or a list of strings")
	return nil, false
}

// item names the i'th value of a list element.
func item(at path, indexed bool, i int) path {
	if indexed {
		return at.index(i)
	}
	return at
}
