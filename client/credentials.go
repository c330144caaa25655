package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Environment variables EnvCredentials reads.
const (
	EnvSecretID     = "COFFER_SECRET_ID"
	EnvSecretKey    = "COFFER_SECRET_KEY"
	EnvSessionToken = "COFFER_SESSION_TOKEN"
)

// Credentials sign requests: an access key pair, and for temporary
// credentials a session token (sent as X-TC-Token) and an expiry. Its
// String, GoString, Format and LogValue never show the secret key or the
// token.
type Credentials struct {
	SecretID  string
	SecretKey string
	Token     string    // session token of temporary credentials; "" for a long-term key
	Expires   time.Time // when temporary credentials stop working; zero for never
}

// String shows the SecretId only. It cannot fail.
func (c Credentials) String() string {
	s := "client.Credentials{SecretID: " + c.SecretID + ", SecretKey: [redacted]"
	if c.Token != "" {
		s += ", Token: [redacted]"
	}
	if !c.Expires.IsZero() {
		s += ", Expires: " + c.Expires.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString is String, so %#v redacts too.
func (c Credentials) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is String, for log/slog.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes String, so the key does not leave by way of JSON
// either. It cannot fail.
func (c Credentials) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// expired reports whether c is unusable at now, allowing for clock skew and
// the time a request takes.
func (c Credentials) expired(now time.Time) bool {
	return !c.Expires.IsZero() && !now.Before(c.Expires.Add(-credentialMargin))
}

// credentialMargin is how long before its expiry a temporary credential is
// renewed.
const credentialMargin = time.Minute

// CredentialsProvider supplies the credentials for each request. It must be
// safe for concurrent use.
type CredentialsProvider interface {
	// Credentials returns credentials valid for at least the next request,
	// or an error (which the call returns, wrapped).
	Credentials(ctx context.Context) (Credentials, error)
}

// CredentialsFunc adapts a function to CredentialsProvider.
type CredentialsFunc func(ctx context.Context) (Credentials, error)

// Credentials calls f.
func (f CredentialsFunc) Credentials(ctx context.Context) (Credentials, error) { return f(ctx) }

// StaticCredentials returns a provider of one fixed key pair. An empty id or
// key makes every call fail with ErrNoCredentials.
func StaticCredentials(secretID, secretKey string) CredentialsProvider {
	c := Credentials{SecretID: secretID, SecretKey: secretKey}
	return CredentialsFunc(func(context.Context) (Credentials, error) {
		if c.SecretID == "" || c.SecretKey == "" {
			return Credentials{}, ErrNoCredentials
		}
		return c, nil
	})
}

// EnvCredentials returns a provider that reads COFFER_SECRET_ID,
// COFFER_SECRET_KEY and (for temporary credentials) COFFER_SESSION_TOKEN
// when it is asked, so a changed environment takes effect. It returns
// ErrNoCredentials when the id or the key is unset.
func EnvCredentials() CredentialsProvider {
	return CredentialsFunc(func(context.Context) (Credentials, error) {
		c := Credentials{SecretID: os.Getenv(EnvSecretID), SecretKey: os.Getenv(EnvSecretKey), Token: os.Getenv(EnvSessionToken)}
		if c.SecretID == "" || c.SecretKey == "" {
			return Credentials{}, fmt.Errorf("%w: set %s and %s", ErrNoCredentials, EnvSecretID, EnvSecretKey)
		}
		return c, nil
	})
}

// ErrNoCredentials is returned (wrapped) when no credentials are configured.
var ErrNoCredentials = errors.New("client: no credentials")

// TemporaryCredentials returns a provider that calls fetch for temporary
// credentials (from AssumeRole, say) and reuses them until a minute before
// they expire. Concurrent callers share one fetch. A fetch error is
// returned to the callers waiting for it; the next call fetches again.
func TemporaryCredentials(fetch func(ctx context.Context) (Credentials, error)) CredentialsProvider {
	return &temporary{fetch: fetch, now: time.Now}
}

type temporary struct {
	fetch func(ctx context.Context) (Credentials, error)
	now   func() time.Time

	mu  sync.Mutex
	cur Credentials
}

func (t *temporary) Credentials(ctx context.Context) (Credentials, error) {
	t.mu.Lock()
	defer t.mu.Unlock() // held across fetch: callers wait for one renewal
	if t.cur.SecretID != "" && !t.cur.expired(t.now()) {
		return t.cur, nil
	}
	c, err := t.fetch(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("client: fetch temporary credentials: %w", err)
	}
	t.cur = c
	return c, nil
}

// expire forgets the held credentials, so the next call fetches new ones
// (after the server refused the token).
func (t *temporary) expire() {
	t.mu.Lock()
	t.cur = Credentials{}
	t.mu.Unlock()
}
