package policy

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// family is the type of value an operator compares.
type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

// setMode says how an operator treats a multi-valued context key.
type setMode uint8

const (
	single    setMode = iota
	anyValue          // ForAnyValue: / for_any_value:
	allValues         // ForAllValues: / for_all_value:
)

// comparison is how an operator compares a request value with a policy
// value, before any negation.
type comparison uint8

const (
	cmpEqual        comparison = iota // equal, or for IP: inside the network
	cmpFold                           // equal ignoring letter case
	cmpLike                           // matches the * and ? pattern
	cmpLess                           // less than
	cmpLessEqual                      // less than or equal
	cmpGreater                        // greater than
	cmpGreaterEqual                   // greater than or equal
)

// operator is a condition operator name taken apart: what it compares,
// how, and what it does with missing and multi-valued keys.
type operator struct {
	family   family
	cmp      comparison
	negated  bool
	ifExists bool
	set      setMode
}

var awsOperators = map[string]operator{
	"StringEquals": {family: famString}, "StringNotEquals": {family: famString, negated: true},
	"StringEqualsIgnoreCase": {family: famString, cmp: cmpFold}, "StringNotEqualsIgnoreCase": {family: famString, cmp: cmpFold, negated: true},
	"StringLike": {family: famString, cmp: cmpLike}, "StringNotLike": {family: famString, cmp: cmpLike, negated: true},
	"NumericEquals": {family: famNumeric}, "NumericNotEquals": {family: famNumeric, negated: true},
	"NumericLessThan": {family: famNumeric, cmp: cmpLess}, "NumericLessThanEquals": {family: famNumeric, cmp: cmpLessEqual},
	"NumericGreaterThan": {family: famNumeric, cmp: cmpGreater}, "NumericGreaterThanEquals": {family: famNumeric, cmp: cmpGreaterEqual},
	"DateEquals": {family: famDate}, "DateNotEquals": {family: famDate, negated: true},
	"DateLessThan": {family: famDate, cmp: cmpLess}, "DateLessThanEquals": {family: famDate, cmp: cmpLessEqual},
	"DateGreaterThan": {family: famDate, cmp: cmpGreater}, "DateGreaterThanEquals": {family: famDate, cmp: cmpGreaterEqual},
	"Bool": {family: famBool}, "BinaryEquals": {family: famBinary},
	"IpAddress": {family: famIP}, "NotIpAddress": {family: famIP, negated: true},
	// AWS matches ArnEquals like ArnLike: segment by segment, with wildcards.
	"ArnEquals": {family: famARN, cmp: cmpLike}, "ArnLike": {family: famARN, cmp: cmpLike},
	"ArnNotEquals": {family: famARN, cmp: cmpLike, negated: true}, "ArnNotLike": {family: famARN, cmp: cmpLike, negated: true},
	"Null": {family: famNull},
}

var camOperators = map[string]operator{
	"string_equal": {family: famString}, "string_not_equal": {family: famString, negated: true},
	"string_equal_ignore_case": {family: famString, cmp: cmpFold}, "string_not_equal_ignore_case": {family: famString, cmp: cmpFold, negated: true},
	"string_like": {family: famString, cmp: cmpLike}, "string_not_like": {family: famString, cmp: cmpLike, negated: true},
	"numeric_equal": {family: famNumeric}, "numeric_not_equal": {family: famNumeric, negated: true},
	"numeric_less_than": {family: famNumeric, cmp: cmpLess}, "numeric_less_than_equal": {family: famNumeric, cmp: cmpLessEqual},
	"numeric_greater_than": {family: famNumeric, cmp: cmpGreater}, "numeric_greater_than_equal": {family: famNumeric, cmp: cmpGreaterEqual},
	"date_equal": {family: famDate}, "date_not_equal": {family: famDate, negated: true},
	"date_less_than": {family: famDate, cmp: cmpLess}, "date_less_than_equal": {family: famDate, cmp: cmpLessEqual},
	"date_greater_than": {family: famDate, cmp: cmpGreater}, "date_greater_than_equal": {family: famDate, cmp: cmpGreaterEqual},
	"bool_equal": {family: famBool}, "binary_equal": {family: famBinary},
	"ip_equal": {family: famIP}, "ip_not_equal": {family: famIP, negated: true},
	"null_equal": {family: famNull},
}

// parseOperator takes apart an operator name with its set prefix and its
// if-exists suffix. It reports false for a name the dialect does not know.
func parseOperator(d Dialect, name string) (operator, bool) {
	table, anyPrefix, allPrefix, suffix := awsOperators, "ForAnyValue:", "ForAllValues:", "IfExists"
	if d == CAM {
		table, anyPrefix, allPrefix, suffix = camOperators, "for_any_value:", "for_all_value:", "_if_exist"
	}
	set := single
	if rest, ok := strings.CutPrefix(name, anyPrefix); ok {
		set, name = anyValue, rest
	} else if rest, ok := strings.CutPrefix(name, allPrefix); ok {
		set, name = allValues, rest
	}
	base, ifExists := strings.CutSuffix(name, suffix)
	op, ok := table[base]
	if !ok || ifExists && op.family == famNull {
		return operator{}, false
	}
	op.ifExists, op.set = ifExists, set
	return op, true
}

func (p *parser) conditions(v any, at path) Conditions {
	obj, ok := v.(object)
	if !ok {
		p.fail(CheckCondition, at, "must be an object mapping operators to {key: values} blocks")
		return nil
	}
	var cs Conditions
	for _, m := range obj {
		here := at.quoted(m.key)
		op, ok := parseOperator(p.dialect, m.key)
		if !ok {
			p.fail(CheckCondition, here, "unknown condition operator")
			continue
		}
		block, ok := m.val.(object)
		if !ok || len(block) == 0 {
			p.fail(CheckCondition, here, "must be an object mapping condition keys to values")
			continue
		}
		keys := make(map[string][]string, len(block))
		for _, km := range block {
			if km.key == "" {
				p.fail(CheckCondition, here, "a condition key must not be empty")
				continue
			}
			keys[km.key] = p.conditionValues(km.val, here.quoted(km.key), op)
		}
		if cs == nil {
			cs = make(Conditions, len(obj))
		}
		cs[m.key] = keys
	}
	return cs
}

// conditionValues reads a value or a non-empty list of them; numbers and
// booleans become their JSON text.
func (p *parser) conditionValues(v any, at path, op operator) []string {
	raw, isList := v.([]any)
	if !isList {
		raw = []any{v}
	} else if len(raw) == 0 {
		p.fail(CheckCondition, at, "must not be an empty list")
		return nil
	}
	out := make([]string, len(raw))
	for i, e := range raw {
		s, ok := scalar(e)
		if !ok {
			p.fail(CheckCondition, at, "must be a string, a number, a boolean or a list of them")
			return nil
		}
		if problem := op.checkValue(s); problem != "" {
			p.fail(CheckCondition, item(at, isList, i), "%s", problem)
		}
		out[i] = s
	}
	return out
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// checkValue checks that a value suits the operator's family. A value with
// a policy variable (${…}) is known only at evaluation.
func (op operator) checkValue(s string) string {
	if strings.Contains(s, "${") {
		return ""
	}
	ok := true
	want := ""
	switch op.family {
	case famNumeric:
		_, err := strconv.ParseFloat(s, 64)
		ok, want = err == nil, "a number"
	case famDate:
		ok, want = isDate(s), "an ISO 8601 date or epoch seconds"
	case famBool, famNull:
		ok, want = strings.EqualFold(s, "true") || strings.EqualFold(s, "false"), `"true" or "false"`
	case famIP:
		_, errAddr := netip.ParseAddr(s)
		_, errPrefix := netip.ParsePrefix(s)
		ok, want = errAddr == nil || errPrefix == nil, "an IP address or CIDR block"
	case famBinary:
		_, err := base64.StdEncoding.DecodeString(s)
		ok, want = err == nil, "base64"
	}
	if !ok {
		return quote(s) + " is not " + want
	}
	return ""
}

// dateLayouts are the W3C profile of ISO 8601 that AWS accepts.
var dateLayouts = []string{"2006", "2006-01", "2006-01-02", "2006-01-02T15:04Z07:00", time.RFC3339}

func isDate(s string) bool {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return true // epoch seconds
	}
	for _, layout := range dateLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
