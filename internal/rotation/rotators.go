package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/coffer-secrets/coffer/internal/password"
	"github.com/coffer-secrets/coffer/internal/rotation/sshkey"
	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// defaultPassword is the policy of generated passwords: long, and free of
// characters that need quoting in connection strings and shells.
var defaultPassword = password.Options{Length: 32, ExcludePunctuation: true, RequireEachIncludedType: true}

func (j *job) newPassword() (string, error) {
	o := defaultPassword
	if j.spec.Password != nil {
		o = *j.spec.Password
	}
	pw, err := password.Generate(o)
	if err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return pw, nil
}

// randomRotator replaces the value with a random password. When the value
// is a JSON object with a "password" (or "Password") member, only that
// member changes.
type randomRotator struct{}

func (randomRotator) create(_ context.Context, j *job) (secrets.Value, error) {
	pw, err := j.newPassword()
	if err != nil {
		return secrets.Value{}, err
	}
	if j.cur != nil && !j.curVal.IsBinary() {
		if v, ok := replaceJSON(j.curVal.Bytes(), map[string]string{"password": pw}); ok {
			return secrets.StringValue(v), nil
		}
	}
	return secrets.StringValue(pw), nil
}
func (randomRotator) set(context.Context, *job) error    { return nil }
func (randomRotator) test(context.Context, *job) error   { return nil }
func (randomRotator) finish(context.Context, *job) error { return nil }
func (randomRotator) undo(context.Context, *job) error   { return nil }

// replaceJSON sets members of a JSON object, matching keys without regard
// to case (a member keeps its spelling); ok is false when raw is not an
// object or lacks one of the members.
func replaceJSON(raw []byte, set map[string]string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return "", false
	}
	for k, v := range set {
		found := false
		for mk := range m {
			if strings.EqualFold(mk, k) {
				b, _ := json.Marshal(v)
				m[mk], found = b, true
			}
		}
		if !found {
			return "", false
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// SSHValue is the value of an SSH key pair secret.
type SSHValue struct {
	SSHKeyID    string
	SSHKeyName  string
	Algorithm   string
	PublicKey   string
	PrivateKey  string
	Fingerprint string
}

// NewSSHValue generates a key pair.
func NewSSHValue(keyID, keyName, algorithm string, bits int) (SSHValue, error) {
	p, err := sshkey.Generate(algorithm, bits, keyID)
	if err != nil {
		return SSHValue{}, err
	}
	return SSHValue{SSHKeyID: keyID, SSHKeyName: keyName, Algorithm: p.Algorithm, PublicKey: p.PublicKey, PrivateKey: p.PrivateKey, Fingerprint: p.Fingerprint}, nil
}

// sshRotator generates a new key pair, keeping the key's id and name.
type sshRotator struct{}

func (sshRotator) create(_ context.Context, j *job) (secrets.Value, error) {
	var old SSHValue
	if j.cur != nil {
		_ = json.Unmarshal(j.curVal.Bytes(), &old)
	}
	alg := j.spec.SSH
	if alg == "" {
		alg = old.Algorithm
	}
	if old.SSHKeyID == "" {
		old.SSHKeyID = "skey-" + strings.ToLower(secrets.NewID(8))
	}
	v, err := NewSSHValue(old.SSHKeyID, old.SSHKeyName, alg, j.spec.SSHBits)
	if err != nil {
		return secrets.Value{}, fmt.Errorf("generate SSH key pair: %w", err)
	}
	b, _ := json.Marshal(v)
	return secrets.StringValue(string(b)), nil
}
func (sshRotator) set(context.Context, *job) error    { return nil }
func (sshRotator) test(context.Context, *job) error   { return nil }
func (sshRotator) finish(context.Context, *job) error { return nil }
func (sshRotator) undo(context.Context, *job) error   { return nil }

// webhookRotator calls the user's endpoint for each step. The endpoint may
// answer createSecret with the new value; otherwise Coffer generates one as
// the random rotator does.
type webhookRotator struct{}

func (webhookRotator) event(j *job, step string) webhook.Event {
	ev := webhook.Event{
		Step: step, SecretId: j.sec.Name, SecretName: j.sec.Name, ClientRequestToken: j.run.VersionID,
		RotationToken: fmt.Sprintf("%s-%d", j.sec.ID, j.run.ID), Account: j.sec.Account, Region: j.sec.Region,
	}
	if j.cur != nil {
		ev.Current = hookValue(j.cur.ID, j.curVal)
	}
	if j.pend != nil && step != webhook.StepCreate {
		ev.Pending = hookValue(j.pend.ID, j.pendVal)
	}
	return ev
}

func hookValue(id string, v secrets.Value) *webhook.Value {
	out := &webhook.Value{VersionId: id}
	if v.IsBinary() {
		out.SecretBinary = v.Bytes()
	} else {
		s := string(v.Bytes())
		out.SecretString = &s
	}
	return out
}

func (w webhookRotator) create(ctx context.Context, j *job) (secrets.Value, error) {
	rep, err := j.svc.Webhook.Call(ctx, j.spec.URL, w.event(j, webhook.StepCreate))
	if err != nil {
		return secrets.Value{}, err
	}
	switch {
	case rep != nil && rep.SecretString != nil:
		return secrets.StringValue(*rep.SecretString), nil
	case rep != nil && rep.SecretBinary != nil:
		return secrets.BinaryValue(rep.SecretBinary), nil
	}
	return randomRotator{}.create(ctx, j)
}

func (w webhookRotator) call(ctx context.Context, j *job, step string) error {
	_, err := j.svc.Webhook.Call(ctx, j.spec.URL, w.event(j, step))
	return err
}
func (w webhookRotator) set(ctx context.Context, j *job) error {
	return w.call(ctx, j, webhook.StepSet)
}
func (w webhookRotator) test(ctx context.Context, j *job) error {
	return w.call(ctx, j, webhook.StepTest)
}
func (w webhookRotator) finish(ctx context.Context, j *job) error {
	return w.call(ctx, j, webhook.StepFinish)
}

// undo does not call the endpoint: the contract has no undo step. The
// pending version goes, and the endpoint's next createSecret starts over.
func (webhookRotator) undo(context.Context, *job) error { return nil }

var errNoCurrent = errors.New("the secret has no current value to rotate")
