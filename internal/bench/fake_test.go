package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

const (
	testID     = "AKIDbenchTEST000000000000000000000000"
	testSecret = "benchTestSecretKey0000000000000000000000"
	testRegion = "ap-guangzhou"
)

// fakeSSM is a small SSM and Secrets Manager: it checks every signature
// with the real verifiers, keeps secrets and versions in memory with the
// version limits of each API, and can delay or fail requests.
type fakeSSM struct {
	t     testing.TB
	delay time.Duration
	// fail returns the error code to answer the n-th (from 1) workload
	// request with, or "" to serve it.
	fail func(n int64) string

	workload atomic.Int64 // Get, Put, List and Describe requests seen
	held     Histogram    // how long the workload requests were held, guarded by mu

	mu       sync.Mutex
	secrets  map[string]*fakeSecret
	calls    map[string]int64 // by action
	injected map[string]int64 // errors fail asked for, by code
	refused  []string         // why requests were refused for a reason other than fail
	conns    map[string]bool  // remote addresses
	srv      *httptest.Server
}

type fakeSecret struct {
	disabled bool
	versions []string
}

func newFake(t testing.TB) *fakeSSM {
	return &fakeSSM{t: t, secrets: map[string]*fakeSecret{}, calls: map[string]int64{}, injected: map[string]int64{}, conns: map[string]bool{}}
}

// start serves f over HTTP, or HTTPS with tlsOn.
func (f *fakeSSM) start(tlsOn bool) *fakeSSM {
	if tlsOn {
		f.srv = httptest.NewTLSServer(f)
	} else {
		f.srv = httptest.NewServer(f)
	}
	f.t.Cleanup(f.srv.Close)
	return f
}

// apiError is an error answer: the code, in the protocol's envelope.
type apiError struct{ code, msg string }

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	aws := strings.HasPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	act := r.Header.Get("X-Tc-Action")
	if aws {
		act = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	}
	f.mu.Lock()
	f.calls[act]++
	f.conns[r.RemoteAddr] = true
	f.mu.Unlock()
	out, apiErr := f.handle(r, aws, act, body)
	if apiErr != nil {
		f.writeError(w, aws, apiErr)
		return
	}
	if aws {
		w.Header().Set("Content-Type", awsContentType)
		json.NewEncoder(w).Encode(out)
		return
	}
	out["RequestId"] = "req-1"
	json.NewEncoder(w).Encode(map[string]any{"Response": out})
}

func (f *fakeSSM) writeError(w http.ResponseWriter, aws bool, e *apiError) {
	if aws {
		w.Header().Set("X-Amzn-ErrorType", e.code)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "Message": e.msg})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": e.code, "Message": e.msg}, "RequestId": "req-1"}})
}

func (f *fakeSSM) handle(r *http.Request, aws bool, act string, body []byte) (map[string]any, *apiError) {
	if err := f.verify(r, aws, body); err != nil {
		return nil, f.refuse("AuthFailure.SignatureFailure", "%s: %v", act, err)
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, f.refuse("InvalidParameter", "%s: body %q is not JSON: %v", act, body, err)
	}
	switch act {
	case "GetSecretValue", "PutSecretValue", "ListSecrets", "DescribeSecret":
		n := f.workload.Add(1)
		if f.delay > 0 {
			t0 := time.Now()
			time.Sleep(f.delay)
			f.mu.Lock()
			f.held.Record(time.Since(t0))
			f.mu.Unlock()
		}
		if code := f.injectedError(n); code != "" {
			return nil, &apiError{code, "injected"}
		}
	}
	name, _ := in["SecretName"].(string)
	if aws {
		name, _ = in["SecretId"].(string)
		if act == "CreateSecret" {
			name, _ = in["Name"].(string)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apply(aws, act, name, in)
}

func (f *fakeSSM) injectedError(n int64) string {
	if f.fail == nil {
		return ""
	}
	code := f.fail(n)
	if code != "" {
		f.mu.Lock()
		f.injected[code]++
		f.mu.Unlock()
	}
	return code
}

// refuse records an answer the tool should never get.
func (f *fakeSSM) refuse(code, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.refused = append(f.refused, code+": "+msg)
	f.mu.Unlock()
	return &apiError{code, msg}
}

// verify checks the signature as Coffer's edges do.
func (f *fakeSSM) verify(r *http.Request, aws bool, body []byte) error {
	if aws {
		s, err := sigv4.ParseRequest(r, body, "secretsmanager", time.Now(), sigv4.MaxSkew)
		if err != nil {
			return err
		}
		if s.Authorization.AccessKeyID != testID || s.Authorization.Region != testRegion {
			return fmt.Errorf("credential %s in %s", s.Authorization.AccessKeyID, s.Authorization.Region)
		}
		return s.Verify([]byte(testSecret))
	}
	s, err := tc3.ParseRequest(r, body, "ssm", time.Now(), tc3.MaxSkew)
	if err != nil {
		return err
	}
	if s.Authorization.SecretID != testID || r.Header.Get("X-TC-Version") != "2019-09-23" || r.Header.Get("X-TC-Region") != testRegion {
		return fmt.Errorf("secret id %s, version %q, region %q", s.Authorization.SecretID, r.Header.Get("X-TC-Version"), r.Header.Get("X-TC-Region"))
	}
	return s.Verify([]byte(testSecret))
}

// apply runs one action on the secrets; f.mu is held.
func (f *fakeSSM) apply(aws bool, act, name string, in map[string]any) (map[string]any, *apiError) {
	limit, exists, notFound := 10, "ResourceInUse.SecretExists", "ResourceNotFound"
	if aws {
		limit, exists, notFound = 100, "ResourceExistsException", "ResourceNotFoundException"
	}
	if act == "ListSecrets" {
		return map[string]any{"SecretMetadatas": []any{}, "TotalCount": len(f.secrets)}, nil
	}
	sec := f.secrets[name]
	if act == "CreateSecret" {
		if sec != nil {
			return nil, &apiError{exists, "exists"}
		}
		f.secrets[name] = &fakeSecret{versions: []string{"initial"}}
		return map[string]any{"SecretName": name}, nil
	}
	if sec == nil {
		return nil, f.refuse(notFound, "%s: no secret %q", act, name)
	}
	return f.applyTo(sec, act, name, in, limit)
}

func (f *fakeSSM) applyTo(sec *fakeSecret, act, name string, in map[string]any, limit int) (map[string]any, *apiError) {
	version, _ := in["VersionId"].(string)
	if token, ok := in["ClientRequestToken"].(string); ok {
		version = token
	}
	switch act {
	case "GetSecretValue", "DescribeSecret":
		return map[string]any{"SecretName": name, "SecretString": "x"}, nil
	case "PutSecretValue":
		if len(sec.versions) >= limit {
			return nil, f.refuse("LimitExceeded", "%s holds %d versions", name, len(sec.versions))
		}
		sec.versions = append(sec.versions, version)
		return map[string]any{"SecretName": name, "VersionId": version}, nil
	case "ListSecretVersionIds":
		var vs []map[string]any
		for _, v := range sec.versions {
			vs = append(vs, map[string]any{"VersionId": v, "CreateTime": 1})
		}
		return map[string]any{"SecretName": name, "Versions": vs}, nil
	case "DeleteSecretVersion":
		i := slices.Index(sec.versions, version)
		if i < 0 {
			return nil, f.refuse("ResourceNotFound", "%s has no version %s", name, version)
		}
		sec.versions = slices.Delete(sec.versions, i, i+1)
	case "DisableSecret":
		sec.disabled = true
	case "DeleteSecret":
		if !sec.disabled && in["ForceDeleteWithoutRecovery"] != true {
			return nil, f.refuse("OperationDenied", "%s is enabled", name)
		}
		delete(f.secrets, name)
	default:
		return nil, f.refuse("InvalidAction", "%s", act)
	}
	return map[string]any{"SecretName": name}, nil
}

// config is a run against f with the test credentials.
func (f *fakeSSM) config(p Protocol) Config {
	c := Config{
		Endpoint: f.srv.URL, Protocol: p, SecretID: testID, SecretKey: testSecret, Region: testRegion,
		Mix: Mix{Get: 1}, Connections: 4, Setup: 4, Size: 64,
	}
	if f.srv.TLS != nil {
		c.TLS = f.srv.Client().Transport.(*http.Transport).TLSClientConfig
	}
	return c
}

// noRefusals fails the test if any request was refused for a reason the
// test did not inject.
func (f *fakeSSM) noRefusals() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.refused {
		if i == 5 {
			f.t.Errorf("... and %d more", len(f.refused)-5)
			break
		}
		f.t.Errorf("refused: %s", r)
	}
}

func (f *fakeSSM) count(action string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}
