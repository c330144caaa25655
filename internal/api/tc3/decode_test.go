package tc3

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func codeOfDecode(body string, dst any) string {
	err := decode([]byte(body), dst)
	if err == nil {
		return ""
	}
	var w *wireError
	if !errors.As(err, &w) {
		return "not a wire error"
	}
	return w.Code
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty body", "", ""},
		{"empty object", "{}", ""},
		{"fields", `{"SecretName":"a","RecoveryWindowInDays":7}`, ""},
		{"null is absent", `{"SecretName":"a","RecoveryWindowInDays":null}`, ""},
		{"array", `[]`, codeInvalidParameter},
		{"string", `"x"`, codeInvalidParameter},
		{"not json", `{"SecretName":`, codeInvalidParameter},
		{"trailing object", `{}{}`, codeInvalidParameter},
		{"number for string", `{"SecretName":1}`, codeInvalidParameter},
		{"string for number", `{"RecoveryWindowInDays":"7"}`, codeInvalidParameter},
		{"fraction for integer", `{"RecoveryWindowInDays":1.5}`, codeInvalidParameter},
		{"bool for integer", `{"RecoveryWindowInDays":true}`, codeInvalidParameter},
		{"unknown field", `{"SecretNam":"a"}`, codeUnknownParameter},
		{"other letter case", `{"secretname":"a"}`, codeUnknownParameter},
		{"given twice", `{"SecretName":"a","SecretName":"b"}`, codeInvalidParameter},
		{"nested other case", `{"Tags":[{"tagkey":"k","TagValue":"v"}]}`, codeUnknownParameter},
		{"nested given twice", `{"Tags":[{"TagKey":"k","TagKey":"j"}]}`, codeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r struct {
				SecretName           string
				RecoveryWindowInDays *int64
				Tags                 []tagIn
			}
			if got := codeOfDecode(tt.body, &r); got != tt.want {
				t.Fatalf("code %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeErrorNamesTheField(t *testing.T) {
	var r deleteSecretRequest
	err := decode([]byte(`{"RecoveryWindowInDays":"seven"}`), &r)
	if err == nil || !strings.Contains(err.Error(), "RecoveryWindowInDays") || strings.Contains(err.Error(), "seven") {
		t.Fatalf("got %v; want the field named and the value not echoed", err)
	}
}

// FuzzDecode feeds arbitrary bodies to every request type: decoding and
// checking never panic, and every failure is a wire error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"SecretName":"a","VersionId":"v1","SecretString":"x"}`,
		`{"SecretName":"a","SecretBinary":"aGk=","Tags":[{"TagKey":"k","TagValue":"v"}]}`,
		`{"Offset":0,"Limit":20,"TagFilters":[{"TagKey":"k","TagValue":["a"]}]}`,
		`{"SecretName":"a","RecoveryWindowInDays":7,"DeleteMode":1,"CleanSSHKey":true}`,
		`{"SecretName":1}`, `[`, `{"Tags":{}}`,
		`{"SecretName":"a","SecretName":"b"}`, `{"secretName":"a"}`, `{"Tags":[{"TagKey":"k","Other":1}]}`,
		`{"\u0053ecretName":"a","SecretName":"b"}`, `{"SecretString":"{\"a\":\"\u00e9\"}"}`,
		`{"Tags":[[{"x":1,"x":2}]]}`, `{"SecretName":"a"} trailing`, `{"SecretName" "a"}`, `{"SecretName":-01}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, req := range []request{
			&createSecretRequest{}, &getSecretValueRequest{}, &valueRequest{}, &deleteSecretRequest{},
			&nameRequest{}, &listSecretsRequest{}, &deleteVersionRequest{}, &updateDescriptionRequest{},
		} {
			// The scanner's answer, where it gives one, is the token walk's.
			if judged, err := scanFields(body, reflect.TypeOf(req)); judged {
				if want := tokenFields(body, reflect.TypeOf(req)); fmt.Sprint(err) != fmt.Sprint(want) {
					t.Fatalf("%T: scanFields(%q) = %v, tokenFields = %v", req, body, err, want)
				}
			}
			err := decode(body, req)
			if err == nil {
				err = req.check()
				_ = req.resource()
			}
			var w *wireError
			if err != nil && !errors.As(err, &w) {
				t.Fatalf("%T: error %v is not a wire error", req, err)
			}
		}
	})
}

// TestScanFields: the scanner judges the plain bodies itself, as the token
// walk does, and leaves the others to it.
func TestScanFields(t *testing.T) {
	typ := reflect.TypeOf(&createSecretRequest{})
	for _, c := range []struct {
		body, want string // want: the error, "" for none, "-" for left to tokenFields
	}{
		{`{"SecretName":"a","VersionId":"v1","SecretString":"x\"y","Tags":[{"TagKey":"k","TagValue":"v"}]}`, ""},
		{`{"SecretName":"a","SecretName":"b"}`, "The parameter `SecretName` is given more than once."},
		{`{"secretName":"a"}`, "The parameter secretName is not recognized."},
		{`{"Tags":[{"TagKey":"k"},{"TagKey":"k","Other":1}]}`, "The parameter Tags.1.Other is not recognized."},
		{`{"\u0053ecretName":"a"}`, "-"},
		{`{"SecretName" "a"}`, "-"},
		{`[1]`, "-"},
	} {
		ok, err := scanFields([]byte(c.body), typ)
		got := "-"
		if ok {
			got = ""
			if err != nil {
				got = err.Error()
			}
		}
		if !strings.Contains(got, c.want) || (c.want == "" && got != "") || (c.want == "-") != (got == "-") {
			t.Errorf("scanFields(%s) = %q, want %q", c.body, got, c.want)
		}
		if ok && fmt.Sprint(err) != fmt.Sprint(tokenFields([]byte(c.body), typ)) {
			t.Errorf("scanFields(%s) = %v, tokenFields = %v", c.body, err, tokenFields([]byte(c.body), typ))
		}
	}
}

func BenchmarkCheckFields(b *testing.B) {
	body := []byte(`{"SecretName":"bench-get-17","VersionId":"v-0192f1c2-7b3a-7c4d-9e5f-0a1b2c3d4e5f"}`)
	typ := reflect.TypeOf(&getSecretValueRequest{})
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			_ = checkFields(body, typ)
		}
	})
	b.Run("tokens", func(b *testing.B) {
		for b.Loop() {
			_ = tokenFields(body, typ)
		}
	})
}
