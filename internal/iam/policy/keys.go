package policy

import (
	"maps"
	"slices"
	"strings"
)

// values is what a condition key resolves to in a request: one value held
// in place, or a list. It has no values when the key is missing.
type values struct {
	one  string
	many []string // nil when the value is one
	n    int
}

func oneValue(v string) values { return values{one: v, n: 1} }
func list(vs []string) values  { return values{many: vs, n: len(vs)} }

func (v values) at(i int) string {
	if v.many != nil {
		return v.many[i]
	}
	return v.one
}

// keyAliases pairs the general condition keys of the two dialects: a policy
// naming either finds a value the caller put under the other.
var keyAliases = [...]struct{ aws, cam string }{
	{"aws:SourceIp", "qcs:ip"},
	{"aws:CurrentTime", "qcs:current_time"},
	{"aws:SecureTransport", "qcs:secure_transport"},
}

// lookup resolves a condition key: Context first (AWS key names in any
// letter case), then the key's alias in the other dialect, then the keys
// derived from the request's tags and principal.
func (e *evaluation) lookup(d Dialect, key string) values {
	if v, ok := e.fromContext(key, d == AWS); ok {
		return v
	}
	for _, a := range keyAliases {
		other, fold := "", false
		switch {
		case key == a.cam:
			other, fold = a.aws, true
		case key == a.aws || d == AWS && strings.EqualFold(key, a.aws):
			other = a.cam
		default:
			continue
		}
		if v, ok := e.fromContext(other, fold); ok {
			return v
		}
	}
	return e.derived(key)
}

func (e *evaluation) fromContext(key string, fold bool) (values, bool) {
	if vs, ok := e.req.Context[key]; ok {
		return list(vs), true
	}
	if fold {
		for k, vs := range e.req.Context {
			if strings.EqualFold(k, key) {
				return list(vs), true
			}
		}
	}
	return values{}, false
}

// derived resolves the keys that come from the request's typed fields
// rather than from Context. AWS keys are matched in any letter case.
func (e *evaluation) derived(key string) values {
	r := &e.req
	if tag, ok := cutPrefixFold(key, "aws:ResourceTag/"); ok {
		return tagValue(r.ResourceTags, tag)
	}
	if tag, ok := cutPrefixFold(key, "secretsmanager:ResourceTag/"); ok {
		return tagValue(r.ResourceTags, tag)
	}
	if tag, ok := cutPrefixFold(key, "aws:RequestTag/"); ok {
		return tagValue(r.RequestTags, tag)
	}
	if tag, ok := cutPrefixFold(key, "aws:PrincipalTag/"); ok {
		return tagValue(r.Principal.Tags, tag)
	}
	switch {
	case strings.EqualFold(key, "aws:TagKeys"):
		return list(slices.Sorted(maps.Keys(r.RequestTags)))
	case strings.EqualFold(key, "aws:PrincipalAccount") && r.Principal.Account != "":
		return oneValue(r.Principal.Account)
	case key == "qcs:resource_tag":
		return tagPairs(r.ResourceTags)
	case key == "qcs:request_tag":
		return tagPairs(r.RequestTags)
	case key == "qcs:principal_tag":
		return tagPairs(r.Principal.Tags)
	}
	return values{}
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// tagValue finds a tag by its key, exactly or else in any letter case (AWS
// condition key names, tag keys included, ignore case).
func tagValue(tags map[string]string, key string) values {
	if v, ok := tags[key]; ok {
		return oneValue(v)
	}
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return oneValue(v)
		}
	}
	return values{}
}

// tagPairs reads tags the CAM way, as multi-valued "key&value" strings.
func tagPairs(tags map[string]string) values {
	if len(tags) == 0 {
		return values{}
	}
	out := make([]string, 0, len(tags))
	for k, v := range tags {
		out = append(out, k+"&"+v)
	}
	slices.Sort(out)
	return list(out)
}

// hasVariables reports whether s holds a policy variable the document's
// version substitutes: AWS "2008-10-17" documents predate variables.
func hasVariables(d *Document, s string) bool {
	return (d.Dialect == CAM || d.Version == "2012-10-17") && strings.Contains(s, "${")
}

// substitute replaces the policy variables in s. For a wildcard pattern
// (escape), the result is in match's escaped form: substituted characters,
// and backslashes anywhere, stand for themselves. It reports false when a
// variable has no value and no default.
func (e *evaluation) substitute(d *Document, s string, escape bool) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		j := -1
		if i >= 0 {
			j = strings.IndexByte(s[i:], '}')
		}
		if j < 0 {
			write(&b, s, escape, `\`)
			return b.String(), true
		}
		write(&b, s[:i], escape, `\`)
		v, ok := e.variable(d, s[i+2:i+j])
		if !ok {
			return "", false
		}
		write(&b, v, escape, `\*?`)
		s = s[i+j+1:]
	}
}

// write writes s, with a backslash before each of the special characters
// when escaping.
func write(b *strings.Builder, s string, escape bool, special string) {
	for i := 0; i < len(s); i++ {
		if escape && strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// variable resolves the text inside ${…}: "*", "?" and "$" stand for
// themselves; CAM's uin and owner_uin are the caller and its account;
// anything else is a condition key, which must have exactly one value. An
// AWS default (${key, 'default'}) applies when the key has none.
func (e *evaluation) variable(d *Document, name string) (string, bool) {
	name, def, hasDef := strings.Cut(name, ",")
	name = strings.TrimSpace(name)
	switch name {
	case "*", "?", "$":
		return name, true
	}
	v, ok := e.variableValue(d, name)
	if !ok && hasDef {
		def = strings.TrimSpace(def)
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			return def[1 : len(def)-1], true
		}
	}
	return v, ok
}

func (e *evaluation) variableValue(d *Document, name string) (string, bool) {
	p := &e.req.Principal
	if d.Dialect == CAM {
		switch name {
		case "uin":
			return p.ID, p.ID != ""
		case "owner_uin":
			return p.Account, p.Account != ""
		case "app_id":
			name = "qcs:app_id"
		}
	}
	v := e.lookup(d.Dialect, name)
	if v.n != 1 {
		return "", false
	}
	return v.at(0), true
}
