package replicate_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/replicate"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

func newSecrets(t *testing.T) *secrets.Service {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	root, err := keyfile.Open(filepath.Join(dir, "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	return &secrets.Service{Store: st, Keys: &keys.Keyring{Root: root, NewID: secrets.NewUUID}, Audit: &audit.Log{Store: st}}
}

func state(rev int64, value string) *secrets.ReplicaState {
	return &secrets.ReplicaState{Account: "100000000001", Region: "ap-shanghai", PrimaryRegion: "ap-guangzhou", Name: "app",
		PrimaryID: "Prim01xxxxxxxxxxxxxxxx", Revision: rev, Status: store.StatusEnabled,
		Versions: []secrets.ReplicaVersion{{ID: "v1", Stages: []string{secrets.StageCurrent}, Value: []byte(value), CreatedAt: time.Now()}}}
}

// TestHandler: only a verified peer may deliver; malformed, oversized or
// misdirected states are refused and change nothing; a state applies once
// and an older one after it changes nothing.
func TestHandler(t *testing.T) {
	svc := newSecrets(t)
	h := &replicate.Handler{Secrets: svc, Serves: func(r string) bool { return r == "ap-shanghai" },
		Verified: func(cs *tls.ConnectionState) bool { return len(cs.PeerCertificates) > 0 || cs.ServerName == "peer" }}
	send := func(tlsState *tls.ConnectionState, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, replicate.ApplyPath, bytes.NewReader(body))
		r.TLS = tlsState
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	good, _ := json.Marshal(state(5, "v-five"))
	peer := &tls.ConnectionState{ServerName: "peer"}
	tests := []struct {
		name   string
		tls    *tls.ConnectionState
		body   []byte
		status int
	}{
		{"no TLS", nil, good, http.StatusForbidden},
		{"no peer certificate", &tls.ConnectionState{}, good, http.StatusForbidden},
		{"not JSON", peer, []byte("{"), http.StatusBadRequest},
		{"too large", peer, bytes.Repeat([]byte("a"), replicate.MaxState+2), http.StatusBadRequest},
		{"region not served", peer, mustJSON(func() *secrets.ReplicaState { s := state(5, "x"); s.Region = "eu-frankfurt"; return s }()), http.StatusBadRequest},
		{"no account", peer, mustJSON(func() *secrets.ReplicaState { s := state(5, "x"); s.Account = ""; return s }()), http.StatusBadRequest},
	}
	for _, tt := range tests {
		if w := send(tt.tls, tt.body); w.Code != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body, tt.status)
		}
	}
	sc := secrets.Scope{Account: "100000000001", Region: "ap-shanghai"}
	if _, err := svc.Meta(context.Background(), sc, "app"); err == nil {
		t.Fatal("a refused delivery created the replica")
	}
	if w := send(peer, good); w.Code != http.StatusOK {
		t.Fatalf("delivery: %d %s", w.Code, w.Body)
	}
	if w := send(peer, mustJSON(state(4, "v-four"))); w.Code != http.StatusOK {
		t.Fatalf("an older delivery: %d %s", w.Code, w.Body)
	}
	_, _, v, err := svc.GetValue(context.Background(), sc, "app", secrets.Selector{})
	if err != nil || v.Text() != "v-five" {
		t.Fatalf("replica value after an older delivery: %v", err)
	}
	// A name taken by a secret that is not a replica is refused as such.
	other := state(1, "x")
	other.Name = "mine"
	val := secrets.StringValue("local")
	if _, _, err := svc.Create(context.Background(), sc, secrets.CreateInput{Name: "mine", Value: &val}); err != nil {
		t.Fatal(err)
	}
	if w := send(peer, mustJSON(other)); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "NotReplica") {
		t.Fatalf("delivery onto a primary: %d %s", w.Code, w.Body)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
