package policy

import (
	"strings"
)

func (p *parser) actionPair(els map[string]any, at path) (actions, notActions []string) {
	v, not, n := p.either(els, at, "Action", CheckAction)
	if n == 0 {
		p.fail(CheckAction, at, "missing %s", p.name("Action"))
	}
	if n != 1 {
		return nil, nil
	}
	name := p.name("Action")
	if not {
		name = "NotAction"
	}
	at = at.elem(name)
	list, indexed := p.list(v, at, CheckAction)
	for i, a := range list {
		norm, problem := p.action(a)
		if problem != "" {
			p.fail(CheckAction, item(at, indexed, i), "%s", problem)
		}
		list[i] = norm
	}
	if not {
		return nil, list
	}
	return list, nil
}

// action checks one action and removes CAM's legacy "name/" prefix.
func (p *parser) action(a string) (string, string) {
	if p.dialect == CAM {
		if strings.HasPrefix(a, "permid/") {
			return a, quote(a) + ` is a feature-set action ("permid/"), which is not supported`
		}
		a = strings.TrimPrefix(a, "name/")
	}
	if a == "*" {
		return a, ""
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || !isWord(service, "-") || !isWord(name, "_-*?") {
		return a, quote(a) + ` is not "service:Action" or "*"`
	}
	return a, ""
}

// isWord reports whether s is non-empty and holds only ASCII letters,
// digits and the extra characters.
func isWord(s, extra string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return true
}

func (p *parser) resourcePair(els map[string]any, at path) (resources, notResources []string) {
	v, not, n := p.either(els, at, "Resource", CheckResource)
	if n != 1 {
		return nil, nil
	}
	name := p.name("Resource")
	if not {
		name = "NotResource"
	}
	at = at.elem(name)
	list, indexed := p.list(v, at, CheckResource)
	for i, r := range list {
		if problem := p.resource(r); problem != "" {
			p.fail(CheckResource, item(at, indexed, i), "%s", problem)
		}
	}
	if not {
		return nil, list
	}
	return list, nil
}

func (p *parser) resource(r string) string {
	switch {
	case r == "*":
	case p.dialect == CAM:
		if parts := strings.SplitN(r, ":", 6); len(parts) != 6 || parts[0] != "qcs" || parts[5] == "" {
			return quote(r) + ` is not a qcs resource name (qcs:project:service:region:account:resource) or "*"`
		}
	case !isARN(r):
		return quote(r) + ` is not an ARN (arn:partition:service:region:account:resource) or "*"`
	}
	return ""
}

// The principal types of each dialect.
var (
	awsPrincipalTypes = []string{"AWS", "Service", "Federated", "CanonicalUser"}
	camPrincipalTypes = []string{"qcs", "service", "federated"}
)

func (p *parser) principalPair(els map[string]any, at path) (principals, notPrincipals *Principals) {
	v, not, n := p.either(els, at, "Principal", CheckPrincipal)
	if n != 1 {
		return nil, nil
	}
	if not {
		return nil, p.principals(v, at.elem("NotPrincipal"))
	}
	return p.principals(v, at.elem(p.name("Principal"))), nil
}

func (p *parser) principals(v any, at path) *Principals {
	switch v := v.(type) {
	case string:
		if v == "*" {
			return &Principals{Wildcard: true}
		}
	case object:
		return p.principalTypes(v, at)
	}
	p.fail(CheckPrincipal, at, `must be "*" or an object mapping principal types to identifiers`)
	return nil
}

func (p *parser) principalTypes(obj object, at path) *Principals {
	if len(obj) == 0 {
		p.fail(CheckPrincipal, at, "must name at least one principal")
		return nil
	}
	pr := &Principals{ByType: make(map[string][]string, len(obj))}
	for _, m := range obj {
		typ, ok := p.principalType(at, m.key)
		if !ok {
			continue
		}
		if _, dup := pr.ByType[typ]; dup {
			p.fail(CheckPrincipal, at, "principal type %s is given twice (CAM keys ignore letter case)", quote(typ))
			continue
		}
		here := at.quoted(m.key)
		ids, indexed := p.list(m.val, here, CheckPrincipal)
		for i, id := range ids {
			if problem := p.principalID(typ, id); problem != "" {
				p.fail(CheckPrincipal, item(here, indexed, i), "%s", problem)
			}
		}
		pr.ByType[typ] = ids
	}
	return pr
}

func (p *parser) principalType(at path, key string) (string, bool) {
	own, other, otherName := awsPrincipalTypes, camPrincipalTypes, "a CAM"
	if p.dialect == CAM {
		own, other, otherName = camPrincipalTypes, awsPrincipalTypes, "an AWS"
	}
	for _, t := range own {
		if key == t || p.dialect == CAM && strings.EqualFold(key, t) {
			return t, true
		}
	}
	for _, t := range other {
		if key == t {
			p.fail(CheckPrincipal, at, "%s is %s principal type, not allowed in this dialect", quote(key), otherName)
			return "", false
		}
	}
	p.fail(CheckPrincipal, at, "unknown principal type %s (want one of %s)", quote(key), strings.Join(own, ", "))
	return "", false
}

func (p *parser) principalID(typ, id string) string {
	switch {
	case id == "":
		return "a principal must not be empty"
	case id == "*":
		return ""
	case typ == "AWS":
		if !isAccountID(id) && !isARN(id) {
			return quote(id) + ` is not an account id, an ARN or "*"`
		}
	case typ == "qcs":
		if !strings.HasPrefix(id, "qcs:") {
			return quote(id) + ` is not a qcs principal (qcs::cam::uin/ACCOUNT:…) or "*"`
		}
	}
	return ""
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func isARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] != "" && parts[5] != ""
}
