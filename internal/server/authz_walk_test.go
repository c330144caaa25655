package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	tc3sig "github.com/coffer-secrets/coffer/internal/signature/tc3"
	"github.com/coffer-secrets/coffer/internal/store"
)

// key is an access key pair a test signs with.
type key struct{ id, secret string }

var rootKey = key{testKeyID, testSecret}

// callAs sends a call of any family signed with k (and a session token
// when set) and returns the request id, the error code ("" on success)
// and the raw response.
func (s *testServer) callAs(t *testing.T, k key, token, family, action string, body any) (string, string, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	if family == "secretsmanager" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager."+action)
		if token != "" {
			sigv4.SignRequestWithToken(req, b, k.id, []byte(k.secret), token, testRegion, "secretsmanager", time.Now())
		} else {
			sigv4.SignRequest(req, b, k.id, []byte(k.secret), testRegion, "secretsmanager", time.Now())
		}
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-TC-Action", action)
		req.Header.Set("X-TC-Version", tencentVersions[family])
		req.Header.Set("X-TC-Region", testRegion)
		if token != "" {
			req.Header.Set("X-TC-Token", token)
		}
		tc3sig.SignRequest(req, b, k.id, []byte(k.secret), family, time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if family == "secretsmanager" {
		return resp.Header.Get("x-amzn-RequestId"), resp.Header.Get("X-Amzn-ErrorType"), raw
	}
	var out struct {
		Response struct {
			RequestId string
			Error     struct{ Code string }
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %q", action, raw)
	}
	return out.Response.RequestId, out.Response.Error.Code, raw
}

// mustAs is callAs that fails the test on an error code and decodes the
// Tencent Response (or the AWS body) into out.
func (s *testServer) mustAs(t *testing.T, k key, token, family, action string, body, out any) {
	t.Helper()
	_, code, raw := s.callAs(t, k, token, family, action, body)
	if code != "" {
		t.Fatalf("%s %s: %s: %s", family, action, code, raw)
	}
	if out == nil {
		return
	}
	if family == "secretsmanager" {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
		return
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		t.Fatal(err)
	}
}

// addUser creates a sub-user with an access key through the IAM service.
func (s *testServer) addUser(t *testing.T, account, name string) (*iam.User, key) {
	t.Helper()
	out, err := s.IAM.AddUser(t.Context(), account, iam.AddUserInput{Name: name, UseAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	return out.User, key{out.AccessKey.ID, out.AccessKey.Secret}
}

// grant attaches a new policy with doc to a user and returns its id.
func (s *testServer) grant(t *testing.T, account string, u *iam.User, name, doc string) string {
	t.Helper()
	p, err := s.IAM.CreatePolicy(t.Context(), account, name, "", doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IAM.Attach(t.Context(), account, p.ID, iam.Entity{Kind: store.EntityUser, ID: u.Uin}); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// denialCodes are the codes of a call refused by policy, per family.
func isDenial(family, code string) bool {
	if family == "secretsmanager" {
		return code == "AccessDeniedException"
	}
	return code == "UnauthorizedOperation"
}

// refusedBeforeGate are the walk's calls the edge answers before any
// policy is consulted: actions not served yet and unknown actions.
func refusedBeforeGate(code string) bool {
	switch code {
	case "UnsupportedOperation", "InvalidAction", "UnknownOperationException", "InvalidRequestException":
		return true
	}
	return false
}

func invalidInput(code string) bool {
	switch code {
	case "InvalidParameterValue", "InvalidParameter", "MissingParameter", "ValidationException", "InvalidParameterException",
		"InvalidParameterValue.InvalidCiphertext":
		return true
	}
	return false
}

// extraGrants are the other actions a call needs besides its own.
var extraGrants = map[string][]string{
	"secretsmanager BatchGetSecretValue": {"secretsmanager:GetSecretValue"},
	"cam DeleteUser":                     {"cam:DeleteAccessKey"},
	"ssm RegisterDatabase":               {"ssm:GetSecretValue"}, // hands Coffer the admin secret to read
}

// selfAuthorized are the actions any authenticated caller may make (the
// handler decides, or nothing needs deciding).
var selfAuthorized = map[string]bool{"sts GetCallerIdentity": true}

// TestAuthorizationEveryAction walks every action of every edge (the audit
// coverage tables, which checkCoverage keeps complete) twice per step:
// first as a user without policies, which must be refused in the caller's
// protocol, audited, and change nothing; then as a user whose only policy
// allows exactly that action, which must get the outcome the table
// expects of the account's root. An action added to an edge without a
// case fails checkCoverage.
func TestAuthorizationEveryAction(t *testing.T) {
	checkCoverage(t)
	s := startServer(t, "")
	ctx := t.Context()
	_, nobody := s.addUser(t, testAccount, "walker-denied")
	walker, allowed := s.addUser(t, testAccount, "walker-allowed")
	policyID := s.grant(t, testAccount, walker, "walker", `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:GetRegions","resource":"*"}]}`)
	for _, tc := range append(slices.Clone(tencentCoverage), awsCoverage...) {
		if tc.body == nil {
			now := time.Now().Unix()
			tc.body = map[string]any{"StartTime": now - 3600, "EndTime": now + 60}
		}
		name := tc.family + " " + tc.action
		actions := append([]string{tc.family + ":" + tc.action}, extraGrants[name]...)
		doc, _ := json.Marshal(map[string]any{"version": "2.0", "statement": []any{
			map[string]any{"effect": "allow", "action": actions, "resource": "*"}}})
		d := string(doc)
		if err := s.IAM.UpdatePolicy(ctx, testAccount, policyID, iam.PolicyPatch{Document: &d}); err != nil {
			t.Fatal(err)
		}

		id, code, raw := s.callAs(t, nobody, "", tc.family, tc.action, tc.body)
		switch {
		case refusedBeforeGate(code) || selfAuthorized[name]:
		case tc.fails && invalidInput(code): // a bad request is refused before its caller's rights are looked at
		case !isDenial(tc.family, code):
			t.Errorf("%s without a policy: code %q, want a denial: %s", name, code, raw)
		default:
			if ev := s.onlyEvent(t, id); ev.ErrorCode != code || ev.PrincipalKind != "user" {
				t.Errorf("%s: denial audited as %+v", name, ev)
			}
			if !strings.Contains(string(raw), tc.family+":"+tc.action) {
				t.Errorf("%s: denial does not name the action: %s", name, raw)
			}
		}

		_, code, raw = s.callAs(t, allowed, "", tc.family, tc.action, tc.body)
		if isDenial(tc.family, code) {
			t.Errorf("%s with a policy allowing it: denied: %s", name, raw)
		} else if (code != "") != tc.fails {
			t.Errorf("%s with a policy allowing it: code %q, want failure %v: %s", name, code, tc.fails, raw)
		}
	}
}
