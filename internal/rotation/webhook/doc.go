// Package webhook calls a user's HTTPS endpoint for each step of a secret's
// rotation, in the four-step contract of AWS Secrets Manager, and signs every
// call with Ed25519 so the endpoint can tell it came from Coffer. Client
// sends the calls; Verify is for endpoints written in Go.
//
// # The call
//
// Each step (createSecret, setSecret, testSecret, finishSecret) is a POST of
// an Event as JSON with these headers:
//
//	Content-Type: application/json
//	User-Agent: coffer-rotation/1
//	Coffer-Step: setSecret
//	Idempotency-Key: <RotationToken>:<Step>
//	Coffer-Signature: t=<unix seconds>,kid=<key id>,v1=<signature>
//
// v1 is the Ed25519 signature, in base64url without padding, of the bytes
//
//	"coffer-webhook-v1\n" + t + "\n" + body
//
// Only t and the body are signed: an endpoint takes the step, the secret and
// the values from the body, and treats the other headers as hints. kid names
// the signing key so an endpoint holding several public keys can pick one;
// the signature, not the name, is what counts.
//
// Secret values travel only to the endpoint and only over TLS: Current, the
// version labelled AWSCURRENT, on every step when there is one, and Pending,
// the version being rotated in, on setSecret, testSecret and finishSecret.
//
// # Retries
//
// Coffer may send the same step more than once (after a timeout, a lost
// reply or a restart), with the same body apart from the signature and the
// same Idempotency-Key. Endpoints must be idempotent: createSecret for a
// ClientRequestToken it has seen returns the same answer, setSecret with the
// value already set succeeds, testSecret changes nothing, and finishSecret
// after it has finished succeeds.
//
// # Replies
//
// Any 2xx status is success. createSecret may choose the pending value by
// replying {"SecretString": "..."} or {"SecretBinary": "<base64>"}; an empty
// body or {} lets Coffer generate it. Other steps' bodies are ignored. Any
// other status fails the step: a JSON body's "Error" (or else "Message")
// string is kept, clipped to 200 bytes, for Coffer's report, unless it may
// quote a secret value. Redirects are not followed, since a signed call
// carrying secret values must not be sent anywhere the operator did not name.
//
// # Verifying a call
//
// A Go endpoint reads the body, bounded, then calls Verify before trusting
// anything in it:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err != nil {
//		http.Error(w, `{"Error":"body too large"}`, http.StatusRequestEntityTooLarge)
//		return
//	}
//	if err := webhook.Verify(cofferKey, r.Header, body, time.Now(), 0); err != nil {
//		log.Print(err)
//		http.Error(w, `{"Error":"bad signature"}`, http.StatusUnauthorized)
//		return
//	}
//	var ev webhook.Event
//	if err := json.Unmarshal(body, &ev); err != nil { ... }
//
// Verify keeps no state, so a captured call could be replayed while its
// timestamp is within the allowed skew; idempotent steps make that harmless,
// and an endpoint that wants more can remember the Idempotency-Keys it has
// served for that long.
package webhook
