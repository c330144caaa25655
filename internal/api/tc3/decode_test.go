package tc3

import (
	"errors"
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, req := range []request{
			&createSecretRequest{}, &getSecretValueRequest{}, &valueRequest{}, &deleteSecretRequest{},
			&nameRequest{}, &listSecretsRequest{}, &deleteVersionRequest{}, &updateDescriptionRequest{},
		} {
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
