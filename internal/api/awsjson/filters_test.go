package awsjson

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"prod/app/db", []string{"prod", "app", "db"}},
		{"prod-AppBeta/x", []string{"prod-AppBeta/x"}}, // two kinds of separator: one word
		{"COMPANYthings", []string{"COMPAN", "Ythings"}},
		{"fooBar", []string{"foo", "Bar"}},
		{"HTTPServer", []string{"HTTP", "Server"}},
		{"the Main database", []string{"the", "Main", "database"}},
		{"a.b.c", []string{"a", "b", "c"}},
		{"-", nil},
	}
	for _, tt := range tests {
		if got := words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	sec := &secrets.Secret{
		Name: "prod/BillingService/db", Description: "Primary database of the billing team",
		Tags: []store.Tag{{Key: "env", Value: "production"}, {Key: "team", Value: "billing"}},
	}
	key := func(k string) *string { return &k }
	tests := []struct {
		name string
		fs   []filterIn
		want bool
	}{
		{"name prefix", []filterIn{{Key: key("name"), Values: []string{"prod/"}}}, true},
		{"name is case-sensitive", []filterIn{{Key: key("name"), Values: []string{"Prod/"}}}, false},
		{"name is a prefix, not a substring", []filterIn{{Key: key("name"), Values: []string{"Billing"}}}, false},
		{"tag key", []filterIn{{Key: key("tag-key"), Values: []string{"te"}}}, true},
		{"tag value", []filterIn{{Key: key("tag-value"), Values: []string{"prod"}}}, true},
		{"description words, any case", []filterIn{{Key: key("description"), Values: []string{"PRIMARY data"}}}, true},
		{"description word not a prefix", []filterIn{{Key: key("description"), Values: []string{"rimary"}}}, false},
		{"all finds a camel-case name word", []filterIn{{Key: key("all"), Values: []string{"service"}}}, true},
		{"all finds a tag value", []filterIn{{Key: key("all"), Values: []string{"billing"}}}, true},
		{"negation", []filterIn{{Key: key("name"), Values: []string{"!dev/"}}}, true},
		{"negated match", []filterIn{{Key: key("name"), Values: []string{"!prod/"}}}, false},
		{"values OR", []filterIn{{Key: key("name"), Values: []string{"dev/", "prod/"}}}, true},
		{"filters AND", []filterIn{{Key: key("name"), Values: []string{"prod/"}}, {Key: key("tag-key"), Values: []string{"owner"}}}, false},
		{"no replicas yet", []filterIn{{Key: key("primary-region"), Values: []string{"ap-"}}}, false},
	}
	for _, tt := range tests {
		m, err := matcher(tt.fs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := m(sec); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatcherRefuses(t *testing.T) {
	key := func(k string) *string { return &k }
	tests := []struct {
		name string
		fs   []filterIn
		want string
	}{
		{"no key", []filterIn{{Values: []string{"x"}}}, errInvalidParameter},
		{"unknown key", []filterIn{{Key: key("colour"), Values: []string{"x"}}}, errValidation},
		{"no values", []filterIn{{Key: key("name")}}, errInvalidParameter},
		{"bad character", []filterIn{{Key: key("name"), Values: []string{"a*"}}}, errInvalidParameter},
	}
	for _, tt := range tests {
		_, err := matcher(tt.fs)
		if a := toAWS(err, false); err == nil || a.Type != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	c := &api.Call{Region: "us-east-1", Principal: iam.Principal{Account: "123456789012"}}
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	tests := []struct {
		id, want, code string
	}{
		{"app/db", "app/db", ""},
		{arn + "app/db", "app/db", ""},
		{arn + "app/db-a1B2c3", secrets.Pin("app/db", "a1B2c3"), ""},
		{arn + "app/db-a1b2", "app/db-a1b2", ""},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db", "", errResourceNotFound},
		{"arn:aws:secretsmanager:us-east-1:999999999999:secret:app/db", "", errResourceNotFound},
		{"arn:aws:s3:::bucket", "", errInvalidParameter},
		{"has space", "", errValidation},
		{"", "", errInvalidParameter},
	}
	for _, tt := range tests {
		got, err := resolve(c, tt.id)
		code := ""
		if err != nil {
			code = toAWS(err, false).Type
		}
		if code != tt.code || (code == "" && got != tt.want) {
			t.Errorf("resolve(%q) = %q, %s; want %q, %q", tt.id, got, code, tt.want, tt.code)
		}
	}
}

func TestPageTokenRoundTrip(t *testing.T) {
	for _, c := range []*store.Cursor{{Name: "a"}, {Name: "b", Time: secretsTime()}} {
		tok := nextToken(c, "name asc")
		got, err := decodeToken(tok, "name asc")
		if err != nil || got.N != c.Name || got.T != c.Time.UnixMilli() {
			t.Fatalf("round trip of %+v = %+v, %v", c, got, err)
		}
		if _, err := decodeToken(tok, "name desc"); err == nil {
			t.Fatal("a token of one listing was accepted by another")
		}
	}
	bad := "not base64!"
	if _, err := decodeToken(&bad, "x"); toAWS(err, false).Type != errInvalidNextToken {
		t.Fatalf("bad token: %v", err)
	}
}

func secretsTime() (t time.Time) { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

// TestNamePrefixes checks the prefixes a scan is narrowed to: a name
// filter's values when it negates none, and only when every match must
// start with one of them (the matcher then agrees on every secret).
func TestNamePrefixes(t *testing.T) {
	key := func(k string) *string { return &k }
	tests := []struct {
		name string
		fs   []filterIn
		want []string
	}{
		{"none", nil, nil},
		{"name", []filterIn{{Key: key("name"), Values: []string{"prod/", "dev/"}}}, []string{"prod/", "dev/"}},
		{"negated name", []filterIn{{Key: key("name"), Values: []string{"prod/", "!prod/x"}}}, nil},
		{"other keys", []filterIn{{Key: key("all"), Values: []string{"prod"}}, {Key: key("tag-key"), Values: []string{"env"}}}, nil},
		{"the first name filter that bounds", []filterIn{{Key: key("name"), Values: []string{"!a"}},
			{Key: key("name"), Values: []string{"b"}}, {Key: key("name"), Values: []string{"bc"}}}, []string{"b"}},
	}
	for _, tt := range tests {
		got := namePrefixes(tt.fs)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: namePrefixes = %q, want %q", tt.name, got, tt.want)
		}
		// Every secret the matcher keeps starts with a prefix returned.
		match, err := matcher(tt.fs)
		if err != nil || got == nil {
			continue
		}
		for _, name := range []string{"prod/a", "dev/b", "b", "bcd", "a", "prod/x1", "other"} {
			if match(&secrets.Secret{Name: name}) && !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(name, p) }) {
				t.Errorf("%s: the matcher keeps %q, which no prefix %q starts", tt.name, name, got)
			}
		}
	}
}
