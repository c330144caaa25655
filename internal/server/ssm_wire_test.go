package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSSMWire checks the envelope off the wire, without the SDK: every API
// error is HTTP 200 with a code and a RequestId, as Tencent answers (spec
// §1.1, §1.6), and a refused request changes nothing.
func TestSSMWire(t *testing.T) {
	s := startServer(t, "")
	newMX(t, s, testRegion).create("wire-base", "v", nil)
	version := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-TC-Version", v) }
	}
	for _, tc := range []struct {
		name, action string
		body         string
		key          string
		mutate       func(*http.Request)
		code         string // "" for success; a trailing "." matches any sub-code
	}{
		{"success", "DescribeSecret", `{"SecretName":"wire-base"}`, testSecret, nil, ""},
		{"no parameters", "GetRegions", ``, testSecret, nil, ""},
		{"ResourceNotFound", "DescribeSecret", `{"SecretName":"wire-none"}`, testSecret, nil, "ResourceNotFound"},
		{"InvalidParameter", "DescribeSecret", `{"SecretName":1}`, testSecret, nil, "InvalidParameter"},
		{"AuthFailure", "DescribeSecret", `{"SecretName":"wire-base"}`, "not-the-key", nil, "AuthFailure."},
		{"AuthFailure on a write", "CreateSecret", `{"SecretName":"wire-auth","SecretString":"v"}`, "not-the-key", nil, "AuthFailure."},
		{"empty body", "DescribeSecret", ``, testSecret, nil, "MissingParameter"},
		{"empty object", "PutSecretValue", `{}`, testSecret, nil, "MissingParameter"},
		{"body is an array", "DescribeSecret", `["wire-base"]`, testSecret, nil, "InvalidParameter"},
		{"body is not JSON", "DescribeSecret", `SecretName=wire-base`, testSecret, nil, "InvalidParameter"},
		{"two objects", "DescribeSecret", `{"SecretName":"wire-base"}{}`, testSecret, nil, "InvalidParameter"},
		{"truncated JSON", "CreateSecret", `{"SecretName":"wire-trunc","SecretString":"v"`, testSecret, nil, "InvalidParameter"},
		{"UnknownParameter", "DescribeSecret", `{"SecretName":"wire-base","Extra":true}`, testSecret, nil, "UnknownParameter"},
		{"InvalidAction", "DescribeSecrets", `{}`, testSecret, nil, "InvalidAction"},
		{"NoSuchVersion", "CreateSecret", `{"SecretName":"wire-version","SecretString":"v"}`, testSecret, version("2018-09-23"), "NoSuchVersion"},
		{"NoSuchVersion on a read", "DescribeSecret", `{"SecretName":"wire-base"}`, testSecret, version("2019-09-24"), "NoSuchVersion"},
		{"UnsupportedOperation", "CreateSSHKeyPairSecret", `{"SecretName":"wire-ssh","ProjectId":0,"EncryptType":1}`, testSecret, nil, "UnsupportedOperation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMX(t, s, testRegion)
			before := m.snapshot("wire-base")
			r := m.raw(tc.action, []byte(tc.body), tc.key, tc.mutate)
			if r.Status != http.StatusOK {
				t.Errorf("got HTTP %d, want 200", r.Status)
			}
			resp, _ := r.Body["Response"].(map[string]any)
			if id, _ := resp["RequestId"].(string); id == "" {
				t.Errorf("got no RequestId in %v", r.Body)
			}
			code := r.code()
			switch {
			case tc.code == "" && code != "":
				t.Errorf("got code %s, want success", code)
			case strings.HasSuffix(tc.code, "."):
				if !strings.HasPrefix(code, tc.code) {
					t.Errorf("got code %q, want %s*", code, tc.code)
				}
			case code != tc.code:
				t.Errorf("got code %q, want %q", code, tc.code)
			}
			if code != "" {
				e, _ := resp["Error"].(map[string]any)
				if msg, _ := e["Message"].(string); msg == "" {
					t.Errorf("error %s has no Message", code)
				}
			}
			m.unchanged("wire-base", before)
		})
	}
	// Each response has its own RequestId.
	m := newMX(t, s, testRegion)
	a := m.must("GetRegions", nil)["RequestId"]
	b := m.must("GetRegions", nil)["RequestId"]
	if a == b {
		t.Errorf("two calls share RequestId %v", a)
	}
}

// TestSSMParameterNamesCaseSensitive checks that parameter names match
// exactly, as the SDKs send them: encoding/json alone matches "secretstring"
// to SecretString, so a body could carry two values for one parameter.
func TestSSMParameterNamesCaseSensitive(t *testing.T) {
	s := startServer(t, "")
	newMX(t, s, testRegion).create("case-base", "v", nil)
	for _, tc := range []struct{ name, body string }{
		{"lower-case name", `{"secretname":"case-new","SecretString":"v"}`},
		{"a parameter twice by case", `{"SecretName":"case-new","SecretString":"v","SECRETSTRING":"w"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMX(t, s, testRegion)
			before := m.snapshot("case-base")
			r := m.raw("CreateSecret", []byte(tc.body), testSecret, nil)
			if got, want := r.code(), "UnknownParameter"; got != want {
				t.Errorf("got code %q, want %q", got, want)
			}
			m.unchanged("case-base", before)
		})
	}
}
