package awsjson

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/coffer-secrets/coffer/internal/secrets"
)

type filterIn struct {
	Key    *string
	Values []string
}

var filterValue = regexp.MustCompile(`^!?[a-zA-Z0-9 :_@/+=.\-!]*$`)

// filterKeys are the keys ListSecrets and BatchGetSecretValue filter on.
var filterKeys = map[string]bool{
	"description": true, "name": true, "tag-key": true, "tag-value": true,
	"primary-region": true, "owning-service": true, "all": true,
}

// matcher compiles filters into one predicate: every filter must match
// (AND), and within a filter any value (OR); a value starting with "!"
// must not match. It returns nil for no filters.
func matcher(fs []filterIn) (func(*secrets.Secret) bool, error) {
	if len(fs) > 10 {
		return nil, fail(errInvalidParameter, "At most 10 filters are allowed.")
	}
	if len(fs) == 0 {
		return nil, nil
	}
	for i, f := range fs {
		if err := checkFilter(i, f); err != nil {
			return nil, err
		}
	}
	return func(sec *secrets.Secret) bool {
		for _, f := range fs {
			if !matchFilter(*f.Key, f.Values, sec) {
				return false
			}
		}
		return true
	}, nil
}

// namePrefixes returns the name prefixes that every match of fs starts
// with one of, for the store to narrow a scan by (the matcher still tests
// each secret): the values of the first "name" filter that negates none.
// nil when no filter bounds the names.
func namePrefixes(fs []filterIn) []string {
	for _, f := range fs {
		if f.Key != nil && *f.Key == "name" && !slices.ContainsFunc(f.Values, func(v string) bool {
			return strings.HasPrefix(v, "!")
		}) {
			return f.Values
		}
	}
	return nil
}

func checkFilter(i int, f filterIn) error {
	if f.Key == nil {
		return fail(errInvalidParameter, "Invalid filter key")
	}
	if !filterKeys[*f.Key] {
		return fail(errValidation, fmt.Sprintf("1 validation error detected: Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, primary-region, owning-service]", clip(*f.Key), i+1))
	}
	if len(f.Values) == 0 || len(f.Values) > 10 {
		return fail(errInvalidParameter, "Invalid filter values for key: "+*f.Key)
	}
	for _, v := range f.Values {
		if len(v) > 512 || !filterValue.MatchString(v) {
			return fail(errInvalidParameter, "Invalid filter values for key: "+*f.Key)
		}
	}
	return nil
}

func matchFilter(key string, values []string, sec *secrets.Secret) bool {
	for _, v := range values {
		neg := strings.HasPrefix(v, "!")
		if matchValue(key, strings.TrimPrefix(v, "!"), sec) != neg {
			return true
		}
	}
	return false
}

// matchValue applies one filter value: a case-sensitive prefix for names,
// tag keys and tag values; a case-insensitive word match for description
// and all.
func matchValue(key, v string, sec *secrets.Secret) bool {
	switch key {
	case "name":
		return strings.HasPrefix(sec.Name, v)
	case "tag-key":
		return anyTag(sec, func(k, _ string) bool { return strings.HasPrefix(k, v) })
	case "tag-value":
		return anyTag(sec, func(_, val string) bool { return strings.HasPrefix(val, v) })
	case "description":
		return wordMatch(v, sec.Description)
	case "all":
		return wordMatch(v, sec.Name) || wordMatch(v, sec.Description) ||
			anyTag(sec, func(k, val string) bool { return wordMatch(v, k) || wordMatch(v, val) })
	}
	return false // primary-region, owning-service: no replicas or managed secrets yet
}

func anyTag(sec *secrets.Secret, f func(k, v string) bool) bool {
	for _, t := range sec.Tags {
		if f(t.Key, t.Value) {
			return true
		}
	}
	return false
}

// wordMatch reports whether every word of the filter value is a
// case-insensitive prefix of some word of attr.
func wordMatch(value, attr string) bool {
	want := words(value) // the value splits as the attribute does: "AppBeta" is App and Beta
	if len(want) == 0 {
		return false
	}
	have := words(attr)
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.HasPrefix(strings.ToLower(h), strings.ToLower(w)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

const separators = "/-_+=.@"

// words splits an attribute as AWS does for word matching: on white space;
// on one kind of separator when only one kind occurs (a name that mixes
// two kinds stays one whole word); then at CamelCase boundaries.
func words(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		kinds := ""
		for _, c := range f {
			if strings.ContainsRune(separators, c) && !strings.ContainsRune(kinds, c) {
				kinds += string(c)
			}
		}
		if len(kinds) > 1 {
			out = append(out, f) // mixed separators: one word, as AWS matches it
			continue
		}
		parts := []string{f}
		if len(kinds) == 1 {
			parts = strings.Split(f, kinds)
		}
		for _, p := range parts {
			if p != "" && !(len(p) == 1 && strings.Contains(separators, p)) {
				out = append(out, camel(p)...)
			}
		}
	}
	return out
}

// camel splits "fooBar" into "foo", "Bar" and "HTTPServer" into "HTTP", "Server".
func camel(s string) []string {
	r := []rune(s)
	var out []string
	start := 0
	for i := 1; i < len(r); i++ {
		lowerToUpper := unicode.IsLower(r[i-1]) && unicode.IsUpper(r[i])
		acronymEnd := unicode.IsUpper(r[i-1]) && unicode.IsUpper(r[i]) && i+1 < len(r) && unicode.IsLower(r[i+1])
		if lowerToUpper || acronymEnd {
			out = append(out, string(r[start:i]))
			start = i
		}
	}
	return append(out, string(r[start:]))
}
