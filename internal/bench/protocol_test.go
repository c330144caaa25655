package bench

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestResult(t *testing.T) {
	tests := []struct {
		name     string
		p        Protocol
		status   int
		header   http.Header
		body     string
		wantCode string
	}{
		{"tc3 success", Tencent, 200, nil, `{"Response":{"SecretName":"a","SecretString":"x","RequestId":"r"}}`, ""},
		{"tc3 value saying Error", Tencent, 200, nil, `{"Response":{"SecretString":"\"Error\":{\"Code\":\"X\"}","RequestId":"r"}}`, ""},
		{"tc3 value Error", Tencent, 200, nil, `{"Response":{"SecretString":"Error","RequestId":"r"}}`, ""},
		{"tc3 error", Tencent, 200, nil, `{"Response":{"Error":{"Code":"ResourceNotFound","Message":"gone"},"RequestId":"r"}}`, "ResourceNotFound"},
		{"tc3 error key in another case", Tencent, 200, nil, `{"Response":{"ErRor":{"Code":"0"}}}`, "0"},
		{"tc3 error key escaped", Tencent, 200, nil, `{"Response":{"\u0045rror":{"Code":"E"}}}`, "E"},
		{"tc3 non-200", Tencent, 502, nil, `bad gateway`, "HTTP502"},
		{"tc3 garbage with Error", Tencent, 200, nil, `<"Error">`, codeMalformed},
		{"aws success", AWS, 200, nil, `{"Name":"a"}`, ""},
		{"aws header", AWS, 400, http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException:http://internal.amazon.com/"}}, `{}`, "ResourceNotFoundException"},
		{"aws __type", AWS, 400, nil, `{"__type":"com.amazonaws.secretsmanager#LimitExceededException","Message":"m"}`, "LimitExceededException"},
		{"aws bare status", AWS, 503, nil, `oops`, "HTTP503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			if got, _ := tt.p.result(tt.status, h, []byte(tt.body)); got != tt.wantCode {
				t.Errorf("code = %q, want %q", got, tt.wantCode)
			}
		})
	}
}

// TestBodies: every body the tool builds is JSON with the fields the API
// wants.
func TestBodies(t *testing.T) {
	for _, p := range []Protocol{Tencent, AWS} {
		for a := range nActions {
			b := p.body(nil, a, "bench-x-\"1\"", "bput-0123456789abcdef-0000000001", "v\nal", 200, 100)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("%s %s: %s is not JSON: %v", p, a, b, err)
				continue
			}
			if a != actList && m[p.nameKey(a)] != "bench-x-\"1\"" {
				t.Errorf("%s %s: %s does not name the secret", p, a, b)
			}
		}
	}
}

// FuzzResult: any answer classifies without panicking, and a Tencent answer
// the decoder reads as a success is one.
func FuzzResult(f *testing.F) {
	f.Add(200, []byte(`{"Response":{"Error":{"Code":"X"}}}`))
	f.Add(200, []byte(`{"Response":{"RequestId":"r"}}`))
	f.Add(400, []byte(`{"__type":"a#B:c"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for _, p := range []Protocol{Tencent, AWS} {
			code, _ := p.result(status, http.Header{}, body)
			if p == Tencent && status == 200 && code == "" {
				var env struct {
					Response struct{ Error *struct{ Code string } }
				}
				if json.Unmarshal(body, &env) == nil && env.Response.Error != nil && env.Response.Error.Code != "" {
					t.Fatalf("error envelope %q read as a success", body)
				}
			}
		}
	})
}
