package audit

import (
	"strings"
	"testing"
)

var testRedactor = &Redactor{Key: []byte("0123456789abcdef0123456789abcdef")}

// redactCases are bodies for both ways of making a record: the ones the
// scanner takes and the ones it leaves to encoding/json.
var redactCases = []struct {
	body string
	fast bool // the scanner takes it
}{
	{`{"SecretName":"app","VersionId":"v1"}`, true},
	{` { "VersionId" : "v1" , "SecretName":"app" } `, true},
	{`{"SecretName":"app","SecretString":"hunter2","Tags":[{"TagKey":"team","TagValue":"x"}]}`, true},
	{`{"secretBINARY":"aHVudGVyMg==","Limit":100,"Offset":-0.5e+3,"On":true,"Off":false,"None":null}`, true},
	{`{"Nested":{"b":[1,{"z":"y","a":[]}],"a":{}},"Empty":[]}`, true},
	{`{}`, true},
	{`{"Password":{"nested":"secret"}}`, false},              // a secret that is not a string
	{`{"SecretString":"{\"password\":\"hunter2\"}"}`, false}, // an escape
	{`{"Description":"<b>&</b>"}`, false},                    // HTML-escaped by encoding/json
	{`{"Description":"数据库"}`, false},                         // not ASCII
	{`{"a":1,"a":2}`, false},                                 // named twice
	{`{"a":1} {"b":2}`, false},                               // something after the object
	{`{"a":01}`, false},                                      // not a JSON number
	{`{"a":1.}`, false},
	{`{"a":tru}`, false},
	{`{"a":1,}`, false},
	{`{"a" 1}`, false},
	{`[1,2]`, false},
	{`"text"`, false},
	{`{"a":` + strings.Repeat("[", maxFastDepth+2) + strings.Repeat("]", maxFastDepth+2) + `}`, false},
	{`{"a":"unterminated}`, false},
	{`{"a":1`, false},
}

// TestParamsWays: the scanner takes the bodies it should, and every
// record it makes is encoding/json's.
func TestParamsWays(t *testing.T) {
	for _, c := range redactCases {
		out, ok := testRedactor.fastParams([]byte(c.body))
		if ok != c.fast {
			t.Errorf("fastParams(%s) took it: %v, want %v", c.body, ok, c.fast)
		}
		if want, wantOK := testRedactor.reflectParams([]byte(c.body)); ok && (!wantOK || string(out) != string(want)) {
			t.Errorf("fastParams(%s) = %s, encoding/json makes %s (parsed: %v)", c.body, out, want, wantOK)
		}
		if strings.Contains(testRedactor.Params([]byte(c.body)), "hunter2") ||
			strings.Contains(testRedactor.Params([]byte(c.body)), "aHVudGVyMg==") {
			t.Errorf("Params(%s) records the secret", c.body)
		}
	}
}

// TestParamsLimits: a body that is not JSON, and a record longer than
// MaxParams, whichever way it was made, are recorded by their kind only.
func TestParamsLimits(t *testing.T) {
	long := strings.Repeat("x", MaxParams)
	for body, want := range map[string]string{
		`not json`:                             `{"unparsable":true}`,
		`{"a":`:                                `{"unparsable":true}`,
		`{"Description":"` + long + `"}`:       `{"truncated":true}`, // the scanner's way
		`{"Description":"\u0078` + long + `"}`: `{"truncated":true}`, // encoding/json's way
		"  ":                                   "",
	} {
		if got := testRedactor.Params([]byte(body)); got != want {
			t.Errorf("Params(%.40s…) = %.60s, want %s", body, got, want)
		}
	}
}

// FuzzParams: on every body the scanner takes, its record is the one
// encoding/json makes, and neither records a secret member's value.
func FuzzParams(f *testing.F) {
	for _, c := range redactCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, ok := testRedactor.fastParams(body)
		if !ok {
			return
		}
		if want, wantOK := testRedactor.reflectParams(body); !wantOK || string(out) != string(want) {
			t.Fatalf("fastParams(%q) = %s, encoding/json makes %s (parsed: %v)", body, out, want, wantOK)
		}
	})
}

func BenchmarkParams(b *testing.B) {
	body := []byte(`{"SecretName":"bench-get-17","VersionId":"v-0192f1c2-7b3a-7c4d-9e5f-0a1b2c3d4e5f"}`)
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			testRedactor.Params(body)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			testRedactor.reflectParams(body)
		}
	})
}
