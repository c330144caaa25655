package server_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
)

// awsySig is how a hand-made request is signed.
type awsySig struct {
	KeyID, Secret   string
	Region, Service string
	Time            time.Time
}

// awsySigning is a correct signature by the test credentials, now.
func awsySigning() awsySig {
	return awsySig{KeyID: testKeyID, Secret: testSecret, Region: testRegion, Service: "secretsmanager", Time: time.Now()}
}

// awsyResp is a response read off the wire without the SDK.
type awsyResp struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r awsyResp) code() string { c, _ := r.Body["__type"].(string); return c }

func (r awsyResp) message() string { m, _ := r.Body["Message"].(string); return m }

// awsyRequest builds a signed AWS JSON request for action. mutate, run
// after signing, may change it.
func awsyRequest(t testing.TB, url, action string, body []byte, sig awsySig, mutate func(*http.Request)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	sigv4.SignRequest(req, body, sig.KeyID, []byte(sig.Secret), sig.Region, sig.Service, sig.Time)
	if mutate != nil {
		mutate(req)
	}
	return req
}

// awsyDo sends req with client (nil for the default) and reads the JSON
// answer, checking the framing every AWS answer shares.
func awsyDo(t testing.TB, client *http.Client, req *http.Request) awsyResp {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.Header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := awsyResp{Status: resp.StatusCode, Header: resp.Header}
	if err := json.Unmarshal(b, &out.Body); err != nil {
		t.Fatalf("%s: response is not a JSON object: %q", req.Header.Get("X-Amz-Target"), b)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s: no x-amzn-RequestId header", req.Header.Get("X-Amz-Target"))
	}
	if code := out.code(); code != "" {
		if h := resp.Header.Get("X-Amzn-ErrorType"); h != code {
			t.Errorf("%s: X-Amzn-ErrorType %q, want the __type %q", req.Header.Get("X-Amz-Target"), h, code)
		}
		if _, ok := out.Body["Message"]; !ok {
			t.Errorf("%s: error %s has no Message member: %s", req.Header.Get("X-Amz-Target"), code, b)
		}
	}
	return out
}

// awsyRaw signs and sends one request.
func awsyRaw(t testing.TB, client *http.Client, url, action string, body []byte, sig awsySig, mutate func(*http.Request)) awsyResp {
	t.Helper()
	return awsyDo(t, client, awsyRequest(t, url, action, body, sig, mutate))
}

// awsyRawOK sends a correctly signed request that must succeed and returns
// its JSON body, so tests can see which members are present.
func awsyRawOK(t testing.TB, url, action string, body map[string]any) map[string]any {
	t.Helper()
	r := awsyRaw(t, nil, url, action, awsyBody(t, body), awsySigning(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: got %d %s (%s), want 200", action, r.Status, r.code(), r.message())
	}
	return r.Body
}

func awsyBody(t testing.TB, v map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// awsyTLSClient trusts the certificate a TLS server generated in its data
// directory.
func awsyTLSClient(t testing.TB, s *testServer) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dir, "tls.crt"))
	if err != nil {
		t.Fatalf("read generated certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the generated certificate does not parse")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// TestAWSSigV4Failures sends hand-signed CreateSecret requests that fail
// authentication (spec §1.4, §1.5; docs/api-aws.md) and checks the codes,
// and that none of them creates anything.
func TestAWSSigV4Failures(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	a.create("sig/existing", "v", nil)
	body := func(name string) []byte {
		return awsyBody(t, map[string]any{"Name": name, "SecretString": "v", "ClientRequestToken": "00000000-0000-4000-8000-" + strings.Repeat("0", 12)})
	}
	good := awsySigning()
	with := func(edit func(*awsySig)) awsySig {
		sig := good
		edit(&sig)
		return sig
	}
	for _, tc := range []struct {
		name   string
		sig    awsySig
		mutate func(*http.Request)
		status int
		code   string
		msg    string // the message contains it
	}{
		{"wrong-key", with(func(s *awsySig) { s.Secret = "not-the-secret-key" }), nil, 400, "InvalidSignatureException", "does not match"},
		{"unknown-key-id", with(func(s *awsySig) { s.KeyID = "AKIDunknown000000000000000000000000" }), nil, 400, "UnrecognizedClientException", "security token"},
		{"six-minutes-old", with(func(s *awsySig) { s.Time = time.Now().Add(-6 * time.Minute) }), nil, 400, "InvalidSignatureException", "Signature expired"},
		{"six-minutes-ahead", with(func(s *awsySig) { s.Time = time.Now().Add(6 * time.Minute) }), nil, 400, "InvalidSignatureException", "not yet current"},
		{"tampered-body", good, func(r *http.Request) {
			b := body("sig/tampered-other")
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, 400, "InvalidSignatureException", "does not match"},
		{"tampered-target", good, func(r *http.Request) { r.Header.Set("X-Amz-Target", "secretsmanager.DescribeSecret") }, 400, "InvalidSignatureException", "does not match"},
		{"missing-authorization", good, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"malformed-authorization", good, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage") }, 400, "IncompleteSignatureException", ""},
		{"wrong-algorithm", good, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
		}, 400, "IncompleteSignatureException", ""},
		{"signed-header-missing", good, func(r *http.Request) { r.Header.Del("Content-Type") }, 400, "IncompleteSignatureException", ""},
		{"no-date", good, func(r *http.Request) { r.Header.Del("X-Amz-Date") }, 400, "IncompleteSignatureException", "X-Amz-Date"},
		{"wrong-service", with(func(s *awsySig) { s.Service = "kms" }), nil, 400, "InvalidSignatureException", "secretsmanager"},
		{"scope-date-not-request-date", good, func(r *http.Request) {
			day := good.Time.UTC().Format("20060102")
			other := good.Time.UTC().AddDate(0, 0, -1).Format("20060102")
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+day+"/", "/"+other+"/", 1))
		}, 400, "InvalidSignatureException", "Credential scope"},
		{"session-token", good, func(r *http.Request) {
			// Signed over the token, so only the token itself is wrong.
			r.Header.Set("X-Amz-Security-Token", "token")
			sigv4.SignRequestWithToken(r, body("sig/session-token"), testKeyID, []byte(testSecret), "token", testRegion, "secretsmanager", time.Now())
		}, 400, "UnrecognizedClientException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "sig/" + tc.name
			r := awsyRaw(t, nil, s.URL(), "CreateSecret", body(name), tc.sig, tc.mutate)
			if r.Status != tc.status || r.code() != tc.code || !strings.Contains(r.message(), tc.msg) {
				t.Errorf("got %d %s %q, want %d %s containing %q", r.Status, r.code(), r.message(), tc.status, tc.code, tc.msg)
			}
			for _, n := range []string{name, "sig/tampered-other"} {
				_, err := a.c.DescribeSecret(a.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(n)})
				awsyCode(t, err, "ResourceNotFoundException")
			}
		})
	}
	if got := a.listNames(secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); len(got) != 1 || got[0] != "sig/existing" {
		t.Errorf("after the failed requests: got secrets %v, want [sig/existing]", got)
	}
	// The same failures on a read leave it unread.
	r := awsyRaw(t, nil, s.URL(), "GetSecretValue", awsyBody(t, map[string]any{"SecretId": "sig/existing"}), with(func(s *awsySig) { s.Secret = "wrong" }), nil)
	if r.code() != "InvalidSignatureException" {
		t.Errorf("GetSecretValue with a wrong key: got %s, want InvalidSignatureException", r.code())
	}
	if d := a.describe("sig/existing"); d.LastAccessedDate != nil {
		t.Errorf("a refused GetSecretValue set LastAccessedDate %v", d.LastAccessedDate)
	}
}

// TestAWSSigV4Replay sends the same signed requests twice: both succeed
// (docs/api-aws.md: identical requests may be sent twice).
func TestAWSSigV4Replay(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	sig := awsySigning()
	for _, tc := range []struct {
		action string
		body   map[string]any
	}{
		{"CreateSecret", map[string]any{"Name": "replay/one", "SecretString": "v", "ClientRequestToken": "11111111-1111-4111-8111-111111111111"}},
		{"GetSecretValue", map[string]any{"SecretId": "replay/one"}},
	} {
		b := awsyBody(t, tc.body)
		req := awsyRequest(t, s.URL(), tc.action, b, sig, nil)
		again := req.Clone(req.Context())
		again.Body = io.NopCloser(bytes.NewReader(b))
		var answers []map[string]any
		for i, r := range []*http.Request{req, again} {
			resp := awsyDo(t, nil, r)
			if resp.Status != http.StatusOK {
				t.Fatalf("%s, send %d: got %d %s %q, want 200", tc.action, i+1, resp.Status, resp.code(), resp.message())
			}
			answers = append(answers, resp.Body)
		}
		if answers[0]["VersionId"] != answers[1]["VersionId"] || answers[0]["ARN"] != answers[1]["ARN"] {
			t.Errorf("%s: the two answers differ: %v and %v", tc.action, answers[0], answers[1])
		}
	}
	if got := a.get("replay/one"); aws.ToString(got.SecretString) != "v" {
		t.Errorf("replay/one: got %q, want v", aws.ToString(got.SecretString))
	}
	vs, err := a.c.ListSecretVersionIds(a.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("replay/one")})
	if err != nil || len(vs.Versions) != 1 {
		t.Errorf("replay/one: got versions %s, %v, want one", awsyJSON(vs), err)
	}
}

// TestAWSSigV4Region checks a server outside dev mode refuses a region it
// is not configured for, and changes nothing.
func TestAWSSigV4Region(t *testing.T) {
	s := mxStartServer(t, func(c *server.Config) {
		c.Dev = false
		c.Regions = []string{testRegion}
	})
	client := awsyTLSClient(t, s)
	create := func(region, name string) awsyResp {
		body := awsyBody(t, map[string]any{"Name": name, "SecretString": "v", "ClientRequestToken": strings.Repeat("a", 32)})
		sig := awsySigning()
		sig.Region = region
		return awsyRaw(t, client, s.URL(), "CreateSecret", body, sig, nil)
	}
	if r := create(testRegion, "region/served"); r.Status != http.StatusOK {
		t.Fatalf("CreateSecret in %s: got %d %s %q, want 200", testRegion, r.Status, r.code(), r.message())
	}
	r := create("ap-beijing", "region/unserved")
	if r.Status != http.StatusBadRequest || r.code() != "InvalidRequestException" || !strings.Contains(r.message(), "ap-beijing") {
		t.Errorf("CreateSecret in ap-beijing: got %d %s %q, want 400 InvalidRequestException naming the region", r.Status, r.code(), r.message())
	}
	for _, action := range []string{"ListSecrets", "GetRandomPassword"} {
		sig := awsySigning()
		sig.Region = "ap-beijing"
		if r := awsyRaw(t, client, s.URL(), action, []byte(`{}`), sig, nil); r.code() != "InvalidRequestException" {
			t.Errorf("%s in ap-beijing: got %d %s, want InvalidRequestException", action, r.Status, r.code())
		}
	}

	// Through the SDK too, and the served region holds only its secret.
	c := secretsmanager.New(secretsmanager.Options{
		Region: "ap-beijing", BaseEndpoint: aws.String(s.URL()), HTTPClient: client,
		Credentials: awsyClient(t, s, testRegion).c.Options().Credentials,
	})
	_, err := c.ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{})
	awsyCode(t, err, "InvalidRequestException")
	served := secretsmanager.New(secretsmanager.Options{
		Region: testRegion, BaseEndpoint: aws.String(s.URL()), HTTPClient: client,
		Credentials: c.Options().Credentials,
	})
	out, err := served.ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{})
	if err != nil || len(out.SecretList) != 1 || aws.ToString(out.SecretList[0].Name) != "region/served" {
		t.Errorf("ListSecrets in %s: got %s, %v, want only region/served", testRegion, awsyJSON(out), err)
	}
}

// TestAWSOperations checks the answers for actions the server does not
// know or does not serve yet.
func TestAWSOperations(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	a.create("ops/one", "v", nil)
	r := awsyRaw(t, nil, s.URL(), "FlyToTheMoon", []byte(`{}`), awsySigning(), nil)
	if r.Status != http.StatusBadRequest || r.code() != "UnknownOperationException" {
		t.Errorf("unknown action: got %d %s %q, want 400 UnknownOperationException", r.Status, r.code(), r.message())
	}
	// Rotation is served (rotation_*_test.go), but needs a rotation function.
	_, err := a.c.RotateSecret(a.ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("ops/one")})
	if msg := awsyCode(t, err, "InvalidRequestException"); msg != "No Lambda rotation function ARN is associated with this secret." {
		t.Errorf("RotateSecret without a function: got message %q", msg)
	}
	if r := awsyRaw(t, nil, s.URL(), "CancelRotateSecret", awsyBody(t, map[string]any{"SecretId": "ops/one"}), awsySigning(), nil); r.code() != "InvalidRequestException" {
		t.Errorf("CancelRotateSecret without a rotation: got %d %s %q, want InvalidRequestException", r.Status, r.code(), r.message())
	}
	// Replication is served (replication_local_test.go); a primary is not a replica to promote.
	if r := awsyRaw(t, nil, s.URL(), "StopReplicationToReplica", awsyBody(t, map[string]any{"SecretId": "ops/one"}), awsySigning(), nil); r.code() != "InvalidRequestException" {
		t.Errorf("StopReplicationToReplica on a primary: got %d %s %q, want InvalidRequestException", r.Status, r.code(), r.message())
	}
	for _, action := range []string{"AssociateCrossAccountReplica", "DisassociateCrossAccountReplica", "ListResourcePolicies"} {
		r := awsyRaw(t, nil, s.URL(), action, awsyBody(t, map[string]any{"SecretId": "ops/one"}), awsySigning(), nil)
		if r.code() != "InvalidRequestException" || !strings.Contains(r.message(), "not supported") {
			t.Errorf("%s: got %d %s %q, want InvalidRequestException saying not supported", action, r.Status, r.code(), r.message())
		}
	}
	// An unknown action is refused only once the request is authenticated.
	r = awsyRaw(t, nil, s.URL(), "FlyToTheMoon", []byte(`{}`), awsySigning(), func(r *http.Request) { r.Header.Del("Authorization") })
	if r.code() != "MissingAuthenticationTokenException" {
		t.Errorf("unknown action without Authorization: got %s, want MissingAuthenticationTokenException", r.code())
	}
	// Nothing changed.
	d := a.describe("ops/one")
	if len(d.VersionIdsToStages) != 1 || d.RotationEnabled != nil && *d.RotationEnabled {
		t.Errorf("ops/one after refused rotation: got %s", awsyJSON(d))
	}
}
