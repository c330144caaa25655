package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
)

// TestAWSErrorsWireFormat checks an error on the wire (spec §1.3, §1.4):
// HTTP 400, a body of exactly __type and Message, and X-Amzn-ErrorType
// equal to __type.
func TestAWSErrorsWireFormat(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	x.create("taken", "v", "")
	cases := []struct {
		action string
		body   any
		code   string
		msg    string
	}{
		{"DescribeSecret", map[string]any{"SecretId": "missing"}, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"GetSecretValue", map[string]any{"SecretId": "bad name"}, "ValidationException", "Invalid name"},
		{"CreateSecret", map[string]any{"Name": "taken", "SecretString": "v", "ClientRequestToken": awsxToken()}, "ResourceExistsException", "already exists"},
		{"CreateSecret", map[string]any{"Name": "short", "SecretString": "v", "ClientRequestToken": "too-short"}, "InvalidParameterException", "32-64"},
		{"PutSecretValue", map[string]any{"SecretId": "taken", "ClientRequestToken": awsxToken()}, "InvalidRequestException", "SecretString or SecretBinary"},
		{"DeleteSecret", map[string]any{"SecretId": "taken", "RecoveryWindowInDays": 6}, "InvalidParameterException", "between 7 and 30"},
		{"NoSuchAction", map[string]any{}, "UnknownOperationException", ""},
		{"DescribeSecret", []byte(`{"SecretId":`), "SerializationException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.action+" "+tc.code, func(t *testing.T) {
			x := x.on(t)
			r := x.raw(tc.action, tc.body)
			if r.Status != http.StatusBadRequest {
				t.Errorf("got HTTP %d, want 400", r.Status)
			}
			if got, want := awsxKeys(r.Body), []string{"Message", "__type"}; !slices.Equal(got, want) {
				t.Errorf("got body keys %v, want %v: %s", got, want, r.Raw)
			}
			if got := r.Body["__type"]; got != tc.code {
				t.Errorf("got __type %v, want %s", got, tc.code)
			}
			if got := r.Header.Get("X-Amzn-ErrorType"); got != tc.code {
				t.Errorf("got X-Amzn-ErrorType %q, want %q", got, tc.code)
			}
			if msg, _ := r.Body["Message"].(string); msg == "" || !strings.Contains(msg, tc.msg) {
				t.Errorf("got Message %q, want a text containing %q", msg, tc.msg)
			}
			if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
				t.Errorf("got Content-Type %q, want application/x-amz-json-1.1", got)
			}
			if r.Header.Get("X-Amzn-RequestId") == "" {
				t.Errorf("no x-amzn-RequestId header")
			}
		})
	}
}

// TestAWSErrorsTyped checks that the SDK turns each modeled error into its
// type (spec §1.3).
func TestAWSErrorsTyped(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	x.create("taken", "v", "")
	id := aws.String("taken")
	twentyOne := make([]string, 21)
	for i := range twentyOne {
		twentyOne[i] = "l" + string(rune('a'+i))
	}
	cases := []struct {
		what string
		call func() error
		is   func(error) bool
	}{
		{"ResourceNotFoundException", func() error {
			_, err := x.c.DescribeSecret(x.ctx(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("missing")})
			return err
		}, awsxIs[*types.ResourceNotFoundException]},
		{"InvalidParameterException", func() error {
			_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: id, RecoveryWindowInDays: aws.Int64(31)})
			return err
		}, awsxIs[*types.InvalidParameterException]},
		{"InvalidRequestException", func() error {
			_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: id})
			return err
		}, awsxIs[*types.InvalidRequestException]},
		{"ResourceExistsException", func() error {
			_, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{Name: id, SecretString: aws.String("v")})
			return err
		}, awsxIs[*types.ResourceExistsException]},
		{"LimitExceededException", func() error {
			_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: id, SecretString: aws.String("v"), VersionStages: twentyOne})
			return err
		}, awsxIs[*types.LimitExceededException]},
		{"InvalidNextTokenException", func() error {
			_, err := x.c.ListSecretVersionIds(x.ctx(), &secretsmanager.ListSecretVersionIdsInput{SecretId: id, NextToken: aws.String("bogus")})
			return err
		}, awsxIs[*types.InvalidNextTokenException]},
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			err := tc.call()
			if !tc.is(err) {
				t.Fatalf("got error %v (%T), want a *types.%s", err, errors.Unwrap(err), tc.what)
			}
			awsxWantError(t, err, tc.what, "")
		})
	}
}

// awsxIs reports whether err is (or wraps) an E.
func awsxIs[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

// TestAWSErrorsClientRequestToken checks the token rules on the wire
// (spec §3.2): 32 to 64 characters, and required with a value.
func TestAWSErrorsClientRequestToken(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	x.create("tok", "v", "")
	bodies := map[string]func(token any) map[string]any{
		"CreateSecret": func(token any) map[string]any {
			return map[string]any{"Name": "tok-" + awsxToken()[:8], "SecretString": "v", "ClientRequestToken": token}
		},
		"PutSecretValue": func(token any) map[string]any {
			return map[string]any{"SecretId": "tok", "SecretString": "v", "ClientRequestToken": token}
		},
		"UpdateSecret": func(token any) map[string]any {
			return map[string]any{"SecretId": "tok", "SecretString": "v", "ClientRequestToken": token}
		},
	}
	cases := []struct {
		what  string
		token any    // nil for absent
		code  string // "" for success
		msg   string
	}{
		{"31 characters", strings.Repeat("a", 31), "InvalidParameterException", "ClientRequestToken must be 32-64 characters long."},
		{"65 characters", strings.Repeat("a", 65), "InvalidParameterException", "ClientRequestToken must be 32-64 characters long."},
		{"32 characters", "", "", ""},
		{"64 characters", "", "", ""},
		{"absent", nil, "InvalidRequestException", "ClientRequestToken"},
	}
	for _, action := range []string{"CreateSecret", "PutSecretValue", "UpdateSecret"} {
		for _, tc := range cases {
			t.Run(action+" "+tc.what, func(t *testing.T) {
				x := x.on(t)
				token := tc.token
				switch tc.what { // fresh, so each success makes a version
				case "32 characters":
					token = strings.ReplaceAll(awsxToken(), "-", "")
				case "64 characters":
					token = strings.ReplaceAll(awsxToken()+awsxToken(), "-", "")
				}
				body := bodies[action](token)
				if token == nil {
					delete(body, "ClientRequestToken")
				}
				r := x.raw(action, body)
				if tc.code == "" {
					if r.Status != http.StatusOK || r.Body["VersionId"] != token {
						t.Errorf("got HTTP %d %s, want 200 with VersionId %v", r.Status, r.Raw, token)
					}
					return
				}
				if r.Status != http.StatusBadRequest || r.Body["__type"] != tc.code {
					t.Fatalf("got HTTP %d %s, want 400 %s", r.Status, r.Raw, tc.code)
				}
				if msg, _ := r.Body["Message"].(string); !strings.Contains(msg, tc.msg) {
					t.Errorf("got Message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}
	}
}

// TestAWSErrorsAbsentMembers checks that responses omit absent members
// rather than sending null, "" or an empty NextToken (spec §1.2, §3.10).
func TestAWSErrorsAbsentMembers(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	cases := []struct {
		what   string
		action string
		body   map[string]any
		keys   []string
	}{
		{"CreateSecret without a value", "CreateSecret", map[string]any{"Name": "bare"}, []string{"ARN", "Name"}},
		{"CreateSecret", "CreateSecret", map[string]any{"Name": "fresh", "SecretString": "v", "ClientRequestToken": awsxToken()}, []string{"ARN", "Name", "VersionId"}},
		{"DescribeSecret of a fresh secret", "DescribeSecret", map[string]any{"SecretId": "fresh"}, []string{"ARN", "CreatedDate", "LastChangedDate", "Name", "VersionIdsToStages"}},
		{"DescribeSecret without a value", "DescribeSecret", map[string]any{"SecretId": "bare"}, []string{"ARN", "CreatedDate", "LastChangedDate", "Name"}},
		{"ListSecretVersionIds, one full page", "ListSecretVersionIds", map[string]any{"SecretId": "fresh", "MaxResults": 1}, []string{"ARN", "Name", "Versions"}},
		{"GetSecretValue", "GetSecretValue", map[string]any{"SecretId": "fresh"}, []string{"ARN", "CreatedDate", "Name", "SecretString", "VersionId", "VersionStages"}},
		{"UpdateSecret description only", "UpdateSecret", map[string]any{"SecretId": "fresh", "Description": "d"}, []string{"ARN", "Name"}},
		{"PutSecretValue", "PutSecretValue", map[string]any{"SecretId": "fresh", "SecretString": "w", "ClientRequestToken": awsxToken()}, []string{"ARN", "Name", "VersionId", "VersionStages"}},
		{"TagResource", "TagResource", map[string]any{"SecretId": "fresh", "Tags": []map[string]string{{"Key": "k", "Value": "v"}}}, []string{}},
		{"DeleteSecret", "DeleteSecret", map[string]any{"SecretId": "bare"}, []string{"ARN", "DeletionDate", "Name"}},
		{"RestoreSecret", "RestoreSecret", map[string]any{"SecretId": "bare"}, []string{"ARN", "Name"}},
	}
	for _, tc := range cases {
		ok := t.Run(tc.what, func(t *testing.T) {
			x := x.on(t)
			r := x.raw(tc.action, tc.body)
			if r.Status != http.StatusOK {
				t.Fatalf("got HTTP %d %s, want 200", r.Status, r.Raw)
			}
			if got := awsxKeys(r.Body); !slices.Equal(got, tc.keys) {
				t.Errorf("got keys %v, want %v: %s", got, tc.keys, r.Raw)
			}
			if bytes.Contains(r.Raw, []byte("null")) || bytes.Contains(r.Raw, []byte(`""`)) {
				t.Errorf("response holds null or \"\": %s", r.Raw)
			}
			for _, k := range []string{"CreatedDate", "LastChangedDate", "DeletionDate"} {
				if v, ok := r.Body[k]; ok {
					if _, num := v.(float64); !num {
						t.Errorf("%s is %T (%v), want a JSON number of epoch seconds", k, v, v)
					}
				}
			}
			if m, ok := r.Body["VersionIdsToStages"].(map[string]any); ok && len(m) == 0 {
				t.Errorf("VersionIdsToStages is empty, want it omitted or filled")
			}
		})
		if !ok && tc.action == "CreateSecret" {
			t.FailNow() // the other cases read these secrets
		}
	}
}

// The wire and error helpers of the AWS end-to-end tests.

// awsxResponse is a response read off the wire without the SDK.
type awsxResponse struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// raw sends body as action, signed by our own SigV4 signer at the driver's
// clock. A []byte body is sent as is; anything else is marshalled to JSON.
func (x *awsx) raw(action string, body any) awsxResponse {
	x.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			x.t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(x.ctx(), http.MethodPost, x.s.URL()+"/", bytes.NewReader(b))
	if err != nil {
		x.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	sigv4.SignRequest(req, b, testKeyID, []byte(testSecret), x.region, "secretsmanager", x.now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		x.t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	out := awsxResponse{Status: resp.StatusCode, Header: resp.Header}
	if out.Raw, err = io.ReadAll(resp.Body); err != nil {
		x.t.Fatal(err)
	}
	if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
		x.t.Fatalf("%s: response is not a JSON object: %q", action, out.Raw)
	}
	return out
}

// awsxKeys returns the sorted keys of a JSON object.
func awsxKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// awsxWantError checks that err is the API error code and that its message
// contains msg.
func awsxWantError(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("%s: got message %q, want it to contain %q", code, ae.ErrorMessage(), msg)
	}
}
