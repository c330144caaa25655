package webhook_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
)

// An endpoint verifies each call before trusting its body, then does the
// step. Here it chooses the pending value at createSecret.
func ExampleVerify() {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}

	// The endpoint, configured with Coffer's public key.
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"Error":"body too large"}`, http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(pub, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, `{"Error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, `{"Error":"bad event"}`, http.StatusBadRequest)
			return
		}
		fmt.Println("endpoint:", ev.Step, ev.SecretName, "key", r.Header.Get("Idempotency-Key"))
		if ev.Step == webhook.StepCreate {
			json.NewEncoder(w).Encode(map[string]string{"SecretString": "chosen-by-endpoint"})
		}
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(handler))
	defer srv.Close()

	// Coffer's side.
	c := &webhook.Client{HTTP: srv.Client(), Signer: webhook.Signer{KeyID: "coffer-1", Key: priv}}
	reply, err := c.Call(context.Background(), srv.URL, webhook.Event{
		Step: webhook.StepCreate, SecretId: "prod/db", SecretName: "prod/db",
		ClientRequestToken: "v2", RotationToken: "run-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("coffer: endpoint chose a value:", reply != nil && reply.SecretString != nil)
	// Output:
	// endpoint: createSecret prod/db key run-1:createSecret
	// coffer: endpoint chose a value: true
}
