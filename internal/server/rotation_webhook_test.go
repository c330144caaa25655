package server_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
)

// hookEndpoint is a rotation endpoint written as the webhook package's
// documentation says: it verifies every call against Coffer's published
// key before it trusts anything in it. Its paths:
//
//	/ok    answers createSecret with a value of its own, succeeds every step
//	/fail  succeeds every step but testSecret, which it answers with 500
//	/leak  fails setSecret with a message quoting the pending value
type hookEndpoint struct {
	srv *httptest.Server

	mu     sync.Mutex
	pub    ed25519.PublicKey
	calls  map[string][]webhook.Event // by secret name, in order
	forged int                        // calls whose signature did not verify
}

func newHookEndpoint(t *testing.T) *hookEndpoint {
	h := &hookEndpoint{calls: map[string][]webhook.Event{}}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

// caFile writes the endpoint's certificate where Config.Rotation.WebhookCA
// can name it.
func (h *hookEndpoint) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "webhook-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// trust fetches the server's webhook key from GET /rotation/webhook-key.
func (h *hookEndpoint) trust(t *testing.T, s *testServer) {
	t.Helper()
	resp, err := http.Get(s.URL() + "/rotation/webhook-key")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct{ KeyId, Algorithm, PublicKey string }
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /rotation/webhook-key: status %d, %v", resp.StatusCode, err)
	}
	pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || k.Algorithm != "Ed25519" || k.KeyId == "" {
		t.Fatalf("GET /rotation/webhook-key: %+v is not an Ed25519 key with an id", k)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pub = pub
}

func (h *hookEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"Error":"body too large"}`, http.StatusRequestEntityTooLarge)
		return
	}
	h.mu.Lock()
	pub := h.pub
	h.mu.Unlock()
	if pub == nil || webhook.Verify(pub, r.Header, body, time.Now(), 0) != nil {
		h.mu.Lock()
		h.forged++
		h.mu.Unlock()
		http.Error(w, `{"Error":"bad signature"}`, http.StatusUnauthorized)
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, `{"Error":"bad event"}`, http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.calls[ev.SecretName] = append(h.calls[ev.SecretName], ev)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/fail" && ev.Step == webhook.StepTest:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"Error":"the new credential does not log in"}`)
	case r.URL.Path == "/leak" && ev.Step == webhook.StepSet && ev.Pending != nil && ev.Pending.SecretString != nil:
		msg, _ := json.Marshal(map[string]string{"Error": "refused value " + *ev.Pending.SecretString})
		w.WriteHeader(http.StatusBadRequest)
		w.Write(msg)
	case ev.Step == webhook.StepCreate && r.URL.Path == "/ok":
		json.NewEncoder(w).Encode(map[string]string{"SecretString": hookValue(ev.ClientRequestToken)})
	default:
		io.WriteString(w, "{}")
	}
}

// hookValue is the value the endpoint chooses for a rotation.
func hookValue(token string) string { return "from-the-endpoint-" + token }

// steps returns the steps the endpoint saw for a secret.
func (h *hookEndpoint) steps(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.calls[name] {
		out = append(out, ev.Step)
	}
	return out
}

func (h *hookEndpoint) events(name string) []webhook.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls[name])
}

func (h *hookEndpoint) forgeries() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.forged
}

// startHookServer starts a server that trusts the endpoint's certificate,
// and has the endpoint trust the server's key.
func startHookServer(t *testing.T, h *hookEndpoint, edit func(*server.Config)) *testServer {
	ca := h.caFile(t)
	s := mxStartServer(t, func(c *server.Config) {
		rotFast(c)
		c.Rotation.WebhookCA = ca
		if edit != nil {
			edit(c)
		}
	})
	h.trust(t, s)
	return s
}

func TestRotationWebhook(t *testing.T) {
	h := newHookEndpoint(t)
	s := startHookServer(t, h, nil)
	a := newRotAWS(t, s)
	_, v1 := a.create("ct-hook", "value-before")
	url := h.srv.URL + "/ok"

	ver := a.rotate("ct-hook", url, nil)
	out := a.rotated("ct-hook", ver)
	want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}
	if got := h.steps("ct-hook"); !slices.Equal(got, want) {
		t.Fatalf("the endpoint saw steps %v, want %v", got, want)
	}
	if val, cur := a.value("ct-hook"); val != hookValue(ver) || cur != ver {
		t.Errorf("the current value (version %s) is not the one the endpoint chose for %s", cur, ver)
	}
	if !slices.Contains(out.VersionIdsToStages[v1], "AWSPREVIOUS") || aws.ToString(out.RotationLambdaARN) != url {
		t.Errorf("DescribeSecret: stages %v, RotationLambdaARN %q", out.VersionIdsToStages, aws.ToString(out.RotationLambdaARN))
	}
	for _, ev := range h.events("ct-hook") {
		if ev.ClientRequestToken != ver || ev.SecretName != "ct-hook" || ev.RotationToken == "" {
			t.Errorf("%s: token %q, secret %q, rotation token %q", ev.Step, ev.ClientRequestToken, ev.SecretName, ev.RotationToken)
		}
		if ev.Current == nil || ev.Current.VersionId != v1 || aws.ToString(ev.Current.SecretString) != "value-before" {
			t.Errorf("%s: Current is not version %s with the value before", ev.Step, v1)
		}
		wantPending := ev.Step != webhook.StepCreate
		if (ev.Pending != nil) != wantPending {
			t.Errorf("%s: Pending present %v, want %v", ev.Step, ev.Pending != nil, wantPending)
		} else if wantPending && (ev.Pending.VersionId != ver || aws.ToString(ev.Pending.SecretString) != hookValue(ver)) {
			t.Errorf("%s: Pending is not version %s with the endpoint's value", ev.Step, ver)
		}
	}
	if n := h.forgeries(); n != 0 {
		t.Errorf("%d calls did not verify against the published key", n)
	}
}

func TestRotationWebhookFailureRollsBack(t *testing.T) {
	h := newHookEndpoint(t)
	s := startHookServer(t, h, nil)
	a := newRotAWS(t, s)
	m := newMX(t, s, testRegion)
	_, v1 := a.create("ct-hook-fail", "value-kept")

	ver := a.rotate("ct-hook-fail", h.srv.URL+"/fail", nil)
	var ended *store.Event
	rotWait(t, "the rotation to be rolled back", time.Minute, func() bool {
		ended = s.rotationEnd(t, "ct-hook-fail", 0)
		return ended != nil
	})
	if ended.ErrorCode != "RotationRolledBack" || ended.VersionID != ver {
		t.Fatalf("the rotation ended with event %s for version %s, want RotationRolledBack for %s", ended.ErrorCode, ended.VersionID, ver)
	}
	want := []string{"createSecret", "setSecret", "testSecret", "testSecret"} // MaxAttempts 2
	if got := h.steps("ct-hook-fail"); !slices.Equal(got, want) {
		t.Errorf("the endpoint saw steps %v, want %v", got, want)
	}
	out := a.describe("ct-hook-fail")
	if len(out.VersionIdsToStages) != 1 || !slices.Contains(out.VersionIdsToStages[v1], "AWSCURRENT") || pendingOf(out) != "" {
		t.Errorf("after the rollback: VersionIdsToStages %v, want only %s as AWSCURRENT", out.VersionIdsToStages, v1)
	}
	if val, _ := a.value("ct-hook-fail"); val != "value-kept" {
		t.Error("the rollback changed the current value")
	}
	if out.LastRotatedDate != nil {
		t.Errorf("a rotation that never finished set LastRotatedDate %v", out.LastRotatedDate)
	}

	// The same through the Tencent edge: the flow fails, naming the step.
	flow := m.must("RotateProductSecret", mxP{"SecretName": "ct-hook-fail"})
	st, desc := m.waitFlow(mxNum(t, flow, "FlowID"))
	if st != 2 || !strings.Contains(desc, "testSecret") {
		t.Errorf("DescribeAsyncRequestInfo: TaskStatus %d (%s), want 2 naming testSecret", st, desc)
	}
	if out := a.describe("ct-hook-fail"); len(out.VersionIdsToStages) != 1 || pendingOf(out) != "" {
		t.Errorf("after the second rollback: VersionIdsToStages %v", out.VersionIdsToStages)
	}
	m.wantString("ct-hook-fail", v1, "value-kept")
	if n := h.forgeries(); n != 0 {
		t.Errorf("%d calls did not verify against the published key", n)
	}
}

// rotationEnd returns the system audit event that ended a rotation of
// name after sequence number after, or nil.
func (s *testServer) rotationEnd(t *testing.T, name string, after int64) *store.Event {
	t.Helper()
	var evs []*store.Event
	err := s.AuditLog.Store.View(t.Context(), func(tx store.Tx) error {
		var err error
		evs, err = tx.Events(t.Context(), store.EventQuery{Resource: name, Action: []string{"RotationStep"}, AfterSeq: after})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.HasPrefix(ev.ErrorCode, "Rotation") && ev.ErrorCode != "RotationStepFailed" {
			return ev
		}
	}
	return nil
}
