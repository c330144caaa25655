package webhook

import (
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// testNow is the clock of both sides unless a test moves one.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	currentSecret = "current-pw-Zr8q"
	pendingSecret = "pending-pw-K3v9"
)

// MustSigner returns a fixed signer and its public key.
func MustSigner(tb testing.TB) (Signer, ed25519.PublicKey) {
	tb.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	key := ed25519.NewKeyFromSeed(seed)
	return Signer{KeyID: "coffer-test-1", Key: key}, key.Public().(ed25519.PublicKey)
}

// MustOtherKey returns a public key that did not sign anything here.
func MustOtherKey(tb testing.TB) ed25519.PublicKey {
	tb.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return pub
}

// received is one call as the endpoint saw it.
type received struct {
	Header http.Header
	Body   []byte
}

// endpoint is a TLS test server that records calls and answers each with
// reply.
type endpoint struct {
	*httptest.Server
	mu    sync.Mutex
	calls []received
}

// MustEndpoint starts an endpoint answering every call with status and
// body.
func MustEndpoint(tb testing.TB, status int, body string) *endpoint {
	tb.Helper()
	return MustHandler(tb, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// MustHandler starts an endpoint that records each call, then hands it to h.
func MustHandler(tb testing.TB, h http.HandlerFunc) *endpoint {
	tb.Helper()
	e := &endpoint{}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.calls = append(e.calls, received{Header: r.Header.Clone(), Body: body})
		e.mu.Unlock()
		h(w, r)
	}))
	tb.Cleanup(e.Close)
	return e
}

// Calls returns the calls received so far.
func (e *endpoint) Calls() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.calls...)
}

// MustClient returns a client that trusts e's certificate and signs at
// testNow.
func MustClient(tb testing.TB, e *endpoint) *Client {
	tb.Helper()
	s, _ := MustSigner(tb)
	return &Client{HTTP: e.Client(), Signer: s, Clock: func() time.Time { return testNow }}
}

func strPtr(s string) *string { return &s }

// testEvent returns an event for step carrying the values the contract
// gives it.
func testEvent(step string) Event {
	ev := Event{
		Step:               step,
		SecretId:           "arn:coffer:secretsmanager:local:000000000000:secret:prod/db-AbCdEf",
		SecretName:         "prod/db",
		ClientRequestToken: "8d6e8c6a-0d1f-4b83-9c4a-2f0f7c1b2a11",
		RotationToken:      "rot-7f3a",
		Account:            "000000000000",
		Region:             "local",
		Current:            &Value{VersionId: "v-current", SecretString: strPtr(currentSecret)},
	}
	if step != StepCreate {
		ev.Pending = &Value{VersionId: ev.ClientRequestToken, SecretString: strPtr(pendingSecret)}
	}
	return ev
}
