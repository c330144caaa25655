package policy

import (
	"fmt"
	"maps"
	"slices"
)

// applies reports whether statement s of document d applies to the
// request, and how its principal element reaches the caller. Unless
// explaining, it stops at the first element that does not match; the
// cheap action test comes first because most statements fail it.
func (e *evaluation) applies(d *Document, s *Statement, src Source) (bool, reach) {
	tracing := e.t != nil
	ok := e.actionMatches(s)
	if ok || tracing {
		ok = e.resourceMatches(d, s, src) && ok
	}
	r := unreached
	if ok || tracing {
		r = e.principalReach(d, s, src)
		ok = r != unreached && ok
	}
	if ok || tracing {
		ok = e.conditionsHold(d, s) && ok
	}
	return ok, r
}

func (e *evaluation) actionMatches(s *Statement) bool {
	if s.Actions != nil {
		pattern, name, ok := e.namedAction(s.Actions)
		if e.t != nil {
			if ok {
				e.t.note("Action %q matches %q", pattern, name)
			} else {
				e.t.note("Action: none of %q matches %q", s.Actions, e.actionNames())
			}
		}
		return ok
	}
	pattern, name, ok := e.namedAction(s.NotActions)
	if e.t != nil {
		if ok {
			e.t.note("NotAction %q matches %q, which excludes the call", pattern, name)
		} else {
			e.t.note("NotAction: none of %q matches %q, so the statement covers the call", s.NotActions, e.actionNames())
		}
	}
	return !ok
}

// namedAction finds a pattern that names the call by any of its names.
func (e *evaluation) namedAction(patterns []string) (pattern, name string, ok bool) {
	for _, p := range patterns {
		if match(p, e.req.Action, true, false) {
			return p, e.req.Action, true
		}
		for _, n := range e.req.Equivalents {
			if match(p, n, true, false) {
				return p, n, true
			}
		}
	}
	return "", "", false
}

func (e *evaluation) actionNames() []string {
	return append([]string{e.req.Action}, e.req.Equivalents...)
}

func (e *evaluation) resourceMatches(d *Document, s *Statement, src Source) bool {
	patterns, not := s.Resources, false
	if patterns == nil {
		patterns, not = s.NotResources, true
	}
	if patterns == nil {
		if src == ResourcePolicy {
			e.t.note("no Resource: the statement covers the resource its policy is attached to")
			return true
		}
		e.t.note("no Resource in an identity policy: an Allow grants nothing, a Deny covers every resource")
		return s.Effect == Deny
	}
	owner := e.req.Principal.Account
	if src == ResourcePolicy {
		owner = e.resAcct
	}
	pattern, name, ok := e.namedResource(d, patterns, owner)
	if e.t != nil {
		e.traceResource(not, ok, pattern, name, patterns)
	}
	return ok != not
}

func (e *evaluation) traceResource(not, ok bool, pattern, name string, patterns []string) {
	element := "Resource"
	if not {
		element = "NotResource"
	}
	switch {
	case ok && !not:
		e.t.note("Resource %q matches %q", pattern, name)
	case ok:
		e.t.note("NotResource %q matches %q, which excludes the resource", pattern, name)
	default:
		e.t.note("%s: none of %q matches %q", element, patterns, e.resources)
	}
}

// namedResource finds a pattern that names the resource by any of its
// names. A pattern whose variable has no value names nothing.
func (e *evaluation) namedResource(d *Document, patterns []string, owner string) (pattern, name string, ok bool) {
	for _, p := range patterns {
		pat, escaped := p, false
		if hasVariables(d, p) {
			if pat, ok = e.substitute(d, p, true); !ok {
				continue
			}
			escaped = true
		}
		for _, n := range e.resources {
			if d.Dialect == CAM && matchQCS(pat, n, owner, escaped) ||
				d.Dialect != CAM && match(pat, n, false, escaped) {
				return p, n, true
			}
		}
	}
	return "", "", false
}

// principalReach says how the statement's principal element reaches the
// caller. Identity documents need none: they are the caller's own.
func (e *evaluation) principalReach(d *Document, s *Statement, src Source) reach {
	pr := &e.req.Principal
	if s.NotPrincipals != nil {
		if exempts(s.NotPrincipals, pr) {
			e.t.note("NotPrincipal names the principal and its account, which excludes it")
			return unreached
		}
		e.t.note("NotPrincipal does not name both the principal and its account, so the statement covers it")
		return byName
	}
	p := s.Principals
	if p == nil {
		p = d.Principals
	}
	switch {
	case p != nil:
		r := reachOf(p, pr)
		if e.t != nil {
			e.t.note("Principal %s", r)
		}
		return r
	case src == IdentityPolicy:
		return byName
	case s.Effect == Deny:
		e.t.note("no Principal in a resource policy: the Deny covers everyone")
		return byName
	}
	e.t.note("no Principal in a resource policy: the Allow grants nothing")
	return unreached
}

// conditionsHold reports whether every condition holds: operators ANDed,
// keys under an operator ANDed. An operator the parser would reject never
// holds.
func (e *evaluation) conditionsHold(d *Document, s *Statement) bool {
	if e.t != nil {
		return e.traceConditions(d, s)
	}
	for name, keys := range s.Conditions {
		op, ok := parseOperator(d.Dialect, name)
		if !ok {
			return false
		}
		for key, want := range keys {
			if !e.holds(d, op, key, want) {
				return false
			}
		}
	}
	return true
}

// traceConditions is conditionsHold for Explain: in a stable order, every
// condition evaluated and noted.
func (e *evaluation) traceConditions(d *Document, s *Statement) bool {
	all := true
	for _, name := range slices.Sorted(maps.Keys(s.Conditions)) {
		op, known := parseOperator(d.Dialect, name)
		keys := s.Conditions[name]
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			ok := known && e.holds(d, op, key, keys[key])
			all = all && ok
			verdict := "holds"
			if !ok {
				verdict = "does not hold"
			}
			e.t.note("Condition %s %q %q: the request has %s: %s", name, key, keys[key], e.describeKey(d, key), verdict)
		}
	}
	return all
}

func (e *evaluation) describeKey(d *Document, key string) string {
	v := e.lookup(d.Dialect, key)
	if v.n == 0 {
		return "no value"
	}
	vals := make([]string, v.n)
	for i := range vals {
		vals[i] = v.at(i)
	}
	return fmt.Sprintf("%q", vals)
}
