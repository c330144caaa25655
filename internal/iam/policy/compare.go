package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// holds evaluates one operator on one key of a condition block:
// want are the policy's values for the key, which are ORed.
//
// Multi-valued keys: without a set modifier a positive operator holds when
// some request value matches, a negated one when none does (the negation
// of the positive form). ForAnyValue: holds when some request value passes
// the operator, ForAllValues: when every one does.
//
// A missing key (no values) is decided by missing.
func (e *evaluation) holds(d *Document, op operator, key string, want []string) bool {
	got := e.lookup(d.Dialect, key)
	if op.family == famNull {
		return nullHolds(got.n > 0, want)
	}
	if got.n == 0 {
		return op.missing(d.Dialect)
	}
	want, escaped, ok := e.expand(d, op, want)
	if !ok {
		return false
	}
	switch op.set {
	case anyValue:
		for i := 0; i < got.n; i++ {
			if op.base(got.at(i), want, escaped) != op.negated {
				return true
			}
		}
		return false
	case allValues:
		for i := 0; i < got.n; i++ {
			if op.base(got.at(i), want, escaped) == op.negated {
				return false
			}
		}
		return true
	}
	for i := 0; i < got.n; i++ {
		if op.base(got.at(i), want, escaped) {
			return !op.negated
		}
	}
	return op.negated
}

// missing decides an operator on a key the request does not have:
//   - …IfExists / _if_exist: true.
//   - CAM otherwise: false, negated operators included (spec §2.5).
//   - AWS ForAllValues: true (every one of no values passes); ForAnyValue:
//     false; a negated operator without a set modifier (StringNotEquals,
//     NotIpAddress, ArnNotLike…): true; a positive one: false.
func (op operator) missing(d Dialect) bool {
	switch {
	case op.ifExists:
		return true
	case d == CAM:
		return false
	case op.set == allValues:
		return true
	case op.set == anyValue:
		return false
	}
	return op.negated
}

// nullHolds evaluates Null / null_equal: "true" holds for a missing key,
// "false" for a present one.
func nullHolds(present bool, want []string) bool {
	for _, w := range want {
		if strings.EqualFold(w, "true") != present {
			return true
		}
	}
	return false
}

// expand substitutes policy variables in the policy values, allocating
// only when one has a variable. For wildcard comparisons the values come
// back in match's escaped form. It reports false when a variable has no
// value: the condition then does not hold.
func (e *evaluation) expand(d *Document, op operator, want []string) ([]string, bool, bool) {
	vars := false
	for _, w := range want {
		vars = vars || hasVariables(d, w)
	}
	if !vars {
		return want, false, true
	}
	escape := op.cmp == cmpLike
	out := make([]string, len(want))
	for i, w := range want {
		v, ok := e.substitute(d, w, escape)
		if !ok {
			return nil, false, false
		}
		out[i] = v
	}
	return out, escape, true
}

// base reports whether the request value v matches some policy value under
// the operator's positive form.
func (op operator) base(v string, want []string, escaped bool) bool {
	switch op.family {
	case famString:
		return op.anyString(v, want, escaped)
	case famARN:
		for _, w := range want {
			if matchARN(w, v, escaped) {
				return true
			}
		}
	case famBool:
		got, ok := parseBool(v)
		for _, w := range want {
			if b, okW := parseBool(w); ok && okW && b == got {
				return true
			}
		}
	case famBinary:
		for _, w := range want {
			if w == v {
				return true
			}
		}
	case famNumeric:
		return op.anyNumber(v, want)
	case famDate:
		return op.anyDate(v, want)
	case famIP:
		return anyNetwork(v, want)
	}
	return false
}

func (op operator) anyString(v string, want []string, escaped bool) bool {
	for _, w := range want {
		var ok bool
		switch op.cmp {
		case cmpFold:
			ok = strings.EqualFold(v, w)
		case cmpLike:
			ok = match(w, v, false, escaped)
		default:
			ok = v == w
		}
		if ok {
			return true
		}
	}
	return false
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// anyNumber compares numerically; a value that is not a number compares
// with nothing.
func (op operator) anyNumber(v string, want []string) bool {
	got, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	for _, w := range want {
		if n, err := strconv.ParseFloat(w, 64); err == nil && op.cmp.ordered(compareFloat(got, n)) {
			return true
		}
	}
	return false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// anyDate compares instants; a value that is not a date compares with
// nothing.
func (op operator) anyDate(v string, want []string) bool {
	got, ok := parseDate(v)
	if !ok {
		return false
	}
	for _, w := range want {
		if t, ok := parseDate(w); ok && op.cmp.ordered(got.Compare(t)) {
			return true
		}
	}
	return false
}

// ordered reports whether a comparison result (-1, 0, 1 for request value
// against policy value) satisfies the comparison.
func (c comparison) ordered(r int) bool {
	switch c {
	case cmpLess:
		return r < 0
	case cmpLessEqual:
		return r <= 0
	case cmpGreater:
		return r > 0
	case cmpGreaterEqual:
		return r >= 0
	}
	return r == 0
}

// parseDate reads the date forms the parser accepts (epoch seconds, or ISO
// 8601 in one of dateLayouts). It tries the likeliest layout first, so that
// the common forms do not cost an error allocation per layout tried.
func parseDate(s string) (time.Time, bool) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		return time.Unix(sec, 0).UTC(), err == nil
	}
	first := time.RFC3339 // a bare year is all digits: epoch seconds
	switch len(s) {
	case len("2006-01"):
		first = "2006-01"
	case len("2006-01-02"):
		first = "2006-01-02"
	}
	if t, err := time.Parse(first, s); err == nil {
		return t, true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// anyNetwork reports whether the address v is one of the policy's
// addresses or inside one of its networks. IPv4-mapped IPv6 addresses
// count as IPv4.
func anyNetwork(v string, want []string) bool {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, w := range want {
		if strings.IndexByte(w, '/') >= 0 {
			if p, err := netip.ParsePrefix(w); err == nil && p.Contains(addr) {
				return true
			}
		} else if a, err := netip.ParseAddr(w); err == nil && a.Unmap() == addr {
			return true
		}
	}
	return false
}
