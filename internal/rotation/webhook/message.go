package webhook

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxMessage = 200 // bytes of an endpoint's error message kept
	withheld   = "[withheld: it may quote a secret value]"
	minLeaf    = 4 // shorter members of a JSON secret are too common to withhold on
)

// statusMessage returns the "Error" (or else "Message") string of a JSON
// error body, made printable and clipped, or withheld if it may quote one of
// ev's values; "" when there is none.
func statusMessage(body []byte, ev Event) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	for _, k := range []string{"Error", "Message"} {
		var s string
		if json.Unmarshal(fields[k], &s) == nil && s != "" {
			return safeMessage(s, ev)
		}
	}
	return ""
}

// safeMessage makes s printable and clips it, or withholds it if it quotes
// a value. Both s and its printable form are checked, since replacing a
// character could complete a value; the clipped text is part of the checked
// text, so it cannot quote a value either.
func safeMessage(s string, ev Event) string {
	clean := strings.Map(printable, strings.ToValidUTF8(s, "\uFFFD"))
	for _, q := range quotables(ev) {
		if strings.Contains(s, q) || strings.Contains(clean, q) {
			return withheld
		}
	}
	return clip(clean, maxMessage)
}

func printable(r rune) rune {
	if unicode.IsPrint(r) {
		return r
	}
	return ' '
}

// clip returns at most n bytes of s, cut between runes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// quotables returns the texts whose appearance in a message means it may
// quote a secret value: each value as sent and as plain text, and, for a
// JSON secret such as {"username": ..., "password": ...}, each of its
// scalar members, since an endpoint is likelier to echo the password than
// the whole object.
func quotables(ev Event) []string {
	var qs []string
	for _, v := range []*Value{ev.Current, ev.Pending} {
		switch {
		case v == nil:
		case v.SecretString != nil:
			qs = append(qs, jsonForms(*v.SecretString)...)
			qs = append(qs, jsonLeaves(*v.SecretString)...)
		case len(v.SecretBinary) > 0:
			qs = append(qs, string(v.SecretBinary), base64.StdEncoding.EncodeToString(v.SecretBinary))
		}
	}
	return qs
}

// jsonForms returns s, and s escaped as inside a JSON string if that
// differs; none for "".
func jsonForms(s string) []string {
	if s == "" {
		return nil
	}
	b, _ := json.Marshal(s) // a string always encodes
	if esc := string(b[1 : len(b)-1]); esc != s {
		return []string{s, esc}
	}
	return []string{s}
}

// jsonLeaves returns the string and number members, at any depth, of s if
// it is a JSON object or array, leaving out those shorter than minLeaf.
func jsonLeaves(s string) []string {
	t := strings.TrimSpace(s)
	if t == "" || t[0] != '{' && t[0] != '[' {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var doc any
	if d.Decode(&doc) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for _, m := range x {
				walk(m)
			}
		case []any:
			for _, m := range x {
				walk(m)
			}
		case string:
			if len(x) >= minLeaf {
				out = append(out, jsonForms(x)...)
			}
		case json.Number:
			if len(x) >= minLeaf {
				out = append(out, string(x))
			}
		}
	}
	walk(doc)
	return out
}
