package webhook

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
)

// The rotation steps, named as in the AWS Secrets Manager contract.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

const redacted = "[redacted]"

// Event is the body of one call: which step of which rotation, and the
// values the step needs.
type Event struct {
	Step               string `json:"Step"`
	SecretId           string `json:"SecretId"` // the secret's ARN-like id or name
	SecretName         string `json:"SecretName"`
	ClientRequestToken string `json:"ClientRequestToken"` // the pending version's id
	RotationToken      string `json:"RotationToken"`      // opaque, one per rotation run
	Account            string `json:"Account"`
	Region             string `json:"Region"`

	// Current is the AWSCURRENT version, on every step; nil when there is none.
	Current *Value `json:"Current,omitempty"`
	// Pending is the version being rotated in, on setSecret, testSecret and
	// finishSecret only.
	Pending *Value `json:"Pending,omitempty"`
}

// String names the step, the secret and the pending version, never a value.
func (ev Event) String() string {
	return fmt.Sprintf("webhook.Event{%s %s version=%s current=%s pending=%s}",
		ev.Step, ev.SecretId, ev.ClientRequestToken, describe(ev.Current), describe(ev.Pending))
}

// GoString hides the values.
func (ev Event) GoString() string { return ev.String() }

// Format hides the values from every verb.
func (ev Event) Format(f fmt.State, _ rune) { fmt.Fprint(f, ev.String()) }

// LogValue hides the values from structured logs.
func (ev Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("step", ev.Step),
		slog.String("secret_id", ev.SecretId),
		slog.String("version", ev.ClientRequestToken),
		slog.String("current", describe(ev.Current)),
		slog.String("pending", describe(ev.Pending)),
	)
}

// Value is one version of a secret: a string or binary bytes, as AWS sends
// it. JSON carries SecretBinary in standard base64.
type Value struct {
	VersionId    string
	SecretString *string `json:",omitempty"`
	SecretBinary []byte  `json:",omitempty"`
}

// String names the version and hides the value.
func (v Value) String() string { return "webhook.Value{" + v.VersionId + " " + redacted + "}" }

// GoString hides the value.
func (v Value) GoString() string { return v.String() }

// Format hides the value from every verb.
func (v Value) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue hides the value from structured logs.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// describe is v.String(), or "none" for no value.
func describe(v *Value) string {
	if v == nil {
		return "none"
	}
	return v.String()
}

// Reply is createSecret's answer when the endpoint chose the pending value;
// exactly one field is set.
type Reply struct {
	SecretString *string
	SecretBinary []byte
}

// String hides the value.
func (Reply) String() string { return "webhook.Reply{" + redacted + "}" }

// GoString hides the value.
func (r Reply) GoString() string { return r.String() }

// Format hides the value from every verb.
func (r Reply) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue hides the value from structured logs.
func (Reply) LogValue() slog.Value { return slog.StringValue(redacted) }

// Signer signs calls. KeyID travels in every call so an endpoint can pick
// the public key; Key never leaves Coffer.
type Signer struct {
	KeyID string
	Key   ed25519.PrivateKey
}

// String names the key and hides it.
func (s Signer) String() string { return "webhook.Signer{" + s.KeyID + " " + redacted + "}" }

// GoString hides the key.
func (s Signer) GoString() string { return s.String() }

// Format hides the key from every verb.
func (s Signer) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue hides the key from structured logs.
func (s Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }
