package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// IsPublic reports whether the document lets anyone in: an Allow statement
// whose principal is "*" (or a "*" of some type, or CAM's anyone
// principals), or that uses NotPrincipal, with no condition that pins the
// caller to an account, organization, network or source. PutResourcePolicy
// with BlockPublicPolicy refuses such a document.
func (d *Document) IsPublic() bool {
	for i := range d.Statements {
		if d.allowsEveryone(&d.Statements[i]) {
			return true
		}
	}
	return false
}

func (d *Document) allowsEveryone(s *Statement) bool {
	if s.Effect != Allow {
		return false
	}
	p := s.Principals
	if p == nil && s.NotPrincipals == nil {
		p = d.Principals
	}
	// Allow with NotPrincipal grants everyone but the few it names.
	broad := s.NotPrincipals != nil || p.anyone()
	return broad && !narrowed(d.Dialect, s.Conditions)
}

// anyone reports whether the principals include everybody.
func (p *Principals) anyone() bool {
	if p == nil {
		return false
	}
	if p.Wildcard {
		return true
	}
	for _, ids := range p.ByType {
		for _, id := range ids {
			switch id {
			case "*", "qcs::cam::anyone", "qcs::cam::anonymous:anonymous":
				return true
			}
		}
	}
	return false
}

// narrowingKeys are the condition keys (lower-cased) that, compared for
// equality with specific values, limit who can use a statement. A
// condition on anything else (aws:SecureTransport, a date) leaves a policy
// public.
var narrowingKeys = map[string]bool{
	"aws:sourceaccount": true, "aws:sourcearn": true, "aws:sourceowner": true,
	"aws:sourcevpc": true, "aws:sourcevpce": true, "aws:sourceip": true,
	"aws:sourceorgid": true, "aws:sourceorgpaths": true,
	"aws:principalaccount": true, "aws:principalarn": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:userid": true,
	"qcs:ip": true,
}

// narrowed reports whether some condition limits the caller to specific
// values. Negated, if-exists and for-all-values operators never do: each
// holds for a request that simply lacks the key.
func narrowed(d Dialect, cs Conditions) bool {
	for name, keys := range cs {
		op, ok := parseOperator(d, name)
		if !ok || op.negated || op.ifExists || op.set == allValues {
			continue
		}
		if op.family != famString && op.family != famARN && op.family != famIP {
			continue
		}
		for key, vals := range keys {
			if narrowingKeys[strings.ToLower(key)] && specific(vals) {
				return true
			}
		}
	}
	return false
}

// specific reports whether no value is a leading wildcard or a /0 network.
func specific(vals []string) bool {
	for _, v := range vals {
		if v == "" || v[0] == '*' || v[0] == '?' {
			return false
		}
		if pfx, err := netip.ParsePrefix(v); err == nil && pfx.Bits() == 0 {
			return false
		}
	}
	return len(vals) > 0
}

// review runs the resource-policy checks on a parsed document.
func (d *Document) review() []Finding {
	var findings []Finding
	statement := "Statement"
	if d.Dialect == CAM {
		statement = "statement"
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		at := fmt.Sprintf("%s[%d]", statement, i)
		if s.Principals == nil && s.NotPrincipals == nil && d.Principals == nil {
			findings = append(findings, Finding{CheckPrincipal, at + ": missing Principal: a resource policy must say whom it applies to"})
		}
		if d.allowsEveryone(s) {
			findings = append(findings, Finding{CheckBroadAccess, at + ": allows every principal, with no condition narrowing who can use it"})
		}
	}
	return findings
}
