package policy

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// refMatch is the reference wildcard matcher: the definition of * and ?
// written as directly as possible, over runes, by recursion. It takes
// exponential time on some inputs and is meant for tests only.
func refMatch(pattern, s []rune) bool {
	if len(pattern) == 0 {
		return len(s) == 0
	}
	switch pattern[0] {
	case '*':
		return refMatch(pattern[1:], s) || len(s) > 0 && refMatch(pattern, s[1:])
	case '?':
		return len(s) > 0 && refMatch(pattern[1:], s[1:])
	}
	return len(s) > 0 && pattern[0] == s[0] && refMatch(pattern[1:], s[1:])
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything:at/all", false, true},
		{"**", "", false, true},
		{"?", "", false, false},
		{"?", "a", false, true},
		{"?", "é", false, true},   // one rune, two bytes
		{"??", "é", false, false}, // not two
		{"*??", "€", false, false},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"a*b*c", "aXbYbZc", false, true},
		{"*a*", "bbb", false, false},
		{"ssm:Get*", "ssm:GetSecretValue", false, true},
		{"ssm:Get*", "ssm:getSecretValue", false, false},
		{"ssm:Get*", "SSM:getsecretvalue", true, true},
		{"SSM:GetSecretValue", "ssm:getsecretvalue", true, true},
		{"ssm:GetSecretValue", "ssm:GetSecretValues", true, false},
		{"*:*", "ssm:x", false, true},
		{"*:*", "ssmx", false, false},
		{"a?c*", "abcdef", false, true},
		{"a?c*", "ac", false, false},
		{"é*", "éa", true, true},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.s, tt.fold, false); got != tt.want {
			t.Errorf("match(%q, %q, fold=%v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

func TestMatchEscaped(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`a\\`, `a\`, true},
		{`\*x*`, "*xyz", true},
		{`*\*`, "ab*", true},
		{`*\*`, "abc", false},
		{`trailing\`, `trailing\`, true},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.s, false, true); got != tt.want {
			t.Errorf("match(%q, %q, escaped) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatchQCS(t *testing.T) {
	const name = "qcs::ssm:ap-guangzhou:uin/100000000001:secret/creatorUin/100000000002/db"
	tests := []struct {
		pattern, owner string
		want           bool
	}{
		{"*", "", true},
		{name, "", true},
		{"qcs::ssm:ap-guangzhou:uin/100000000001:secret/*", "", true},
		{"qcs::ssm::uin/100000000001:secret/*", "", true},
		{"qcs:::ap-guangzhou:uin/100000000001:secret/*", "", true},
		{"qcs::*:*:*:*", "", true},
		{"qcs:7:ssm::uin/100000000001:secret/*", "", true},
		{"qcs::ssm:::secret/*", "100000000001", true},
		{"qcs::ssm:::secret/*", "100000000009", false},
		{"qcs::ssm:::secret/*", "", false},
		{"qcs::kms::uin/100000000001:secret/*", "", false},
		{"qcs::ssm:ap-beijing:uin/100000000001:secret/*", "", false},
		{"qcs::ssm:ap-*:uin/1*:secret/creatorUin/100000000002/d?", "", true},
		{"qcs::ssm::uin/100000000001:secret/creatorUin/100000000002/", "", false},
		{"qcs::ssm::uin/100000000001", "", false}, // too few segments
		{"qcs::ssm::uin/100000000001:key/*", "", false},
	}
	for _, tt := range tests {
		if got := matchQCS(tt.pattern, name, tt.owner, false); got != tt.want {
			t.Errorf("matchQCS(%q, owner %q) = %v, want %v", tt.pattern, tt.owner, got, tt.want)
		}
	}
	if matchQCS("qcs::ssm::uin/1:secret/*", "arn:aws:secretsmanager:r:1:secret:x", "", false) {
		t.Error("a qcs pattern matched an ARN")
	}
	if matchQCS("qcs::ssm::uin/1:secret/*", "qcs::ssm:r:uid/1:secret/x", "1", false) {
		t.Error("an empty-account pattern matched a uid/ account")
	}
}

func TestMatchARN(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "whatever", true},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/app", true},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/app", false},
		{"arn:aws:iam::*", "arn:aws:iam::123456789012:role/app", false},
		{"arn:aws:iam:*:role/*", "arn:aws:iam::123456789012:role/app", false},
		{"arn:aws:secretsmanager:*:*:secret:a:b*", "arn:aws:secretsmanager:r:1:secret:a:bc", true},
	}
	for _, tt := range tests {
		if got := matchARN(tt.pattern, tt.s, false); got != tt.want {
			t.Errorf("matchARN(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestResourceAccount(t *testing.T) {
	tests := map[string]string{
		"qcs::ssm:ap-guangzhou:uin/100000000001:secret/creatorUin/100000000002/db": "100000000001",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf":           "123456789012",
		"*":                          "",
		"qcs::ssm::uid/1250000:x/y":  "uid/1250000",
		"urn:x:y:z:123456789012:abc": "",
	}
	for name, want := range tests {
		if got := resourceAccount(name); got != want {
			t.Errorf("resourceAccount(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestAccountID(t *testing.T) {
	tests := []struct {
		id, want string
		ok       bool
	}{
		{"123456789012", "123456789012", true},
		{"arn:aws:iam::123456789012:root", "123456789012", true},
		{"arn:aws-cn:iam::123456789012:root", "123456789012", true},
		{"qcs::cam::uin/100000000001:root", "100000000001", true},
		{"arn:aws:iam::123456789012:user/root", "", false},
		{"arn:aws:sts::123456789012:root", "", false},
		{"qcs::cam::uin/100000000001:uin/100000000001", "", false},
		{"qcs::cam::uin/:root", "", false},
		{"12345", "", false},
	}
	for _, tt := range tests {
		if got, ok := accountID(tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("accountID(%q) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

// globAlphabet is small so that random patterns and strings often match;
// é is two bytes, so ? must count runes.
var globAlphabet = []rune("ab:é")

func TestMatchAgreesWithReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pattern := string(rapid.SliceOfN(rapid.SampledFrom(append([]rune("*?"), globAlphabet...)), 0, 10).Draw(t, "pattern"))
		s := string(rapid.SliceOfN(rapid.SampledFrom(globAlphabet), 0, 12).Draw(t, "s"))
		want := refMatch([]rune(pattern), []rune(s))
		if got := match(pattern, s, false, false); got != want {
			t.Fatalf("match(%q, %q) = %v, reference %v", pattern, s, got, want)
		}
		// Folding is matching the lower-cased forms; only ASCII letters fold.
		upper := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' && rapid.Bool().Draw(t, "upper") {
				return r - 'a' + 'A'
			}
			return r
		}, s)
		if got := match(pattern, upper, true, false); got != want {
			t.Fatalf("match(%q, %q, fold) = %v, want %v", pattern, upper, got, want)
		}
	})
}

// TestMatchEscapedAgreesWithReference checks the escaped form: escaping
// every wildcard of a literal string makes it match only itself.
func TestMatchEscapedAgreesWithReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lit := string(rapid.SliceOfN(rapid.SampledFrom([]rune(`ab*?\`)), 0, 8).Draw(t, "literal"))
		s := string(rapid.SliceOfN(rapid.SampledFrom([]rune(`ab*?\`)), 0, 8).Draw(t, "s"))
		var b strings.Builder
		write(&b, lit, true, `\*?`)
		if got, want := match(b.String(), s, false, true), s == lit; got != want {
			t.Fatalf("match(%q, %q, escaped) = %v, want %v", b.String(), s, got, want)
		}
	})
}
