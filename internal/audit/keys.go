package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Keys are the deployment's audit keys: the HMAC key that stands in for
// secret values, and the Ed25519 key that signs checkpoints. Both are
// generated on first start and kept sealed by the root key.
type Keys struct {
	HMAC   []byte
	Signer ed25519.PrivateKey
	Public ed25519.PublicKey
	KeyID  string // hex SHA-256 prefix of Public

	// Webhook signs calls to rotation webhooks; WebhookKeyID names its
	// public half as KeyID does.
	Webhook      ed25519.PrivateKey
	WebhookKeyID string
}

// String hides the keys.
func (k *Keys) String() string { return "audit.Keys{" + k.KeyID + " [redacted]}" }

// GoString hides the keys.
func (k *Keys) GoString() string { return k.String() }

const (
	metaHMAC   = "audit-hmac-key"
	metaSigner = "audit-signing-key"
	metaPublic = "audit-public-key"
	// metaWebhook seeds the key that signs rotation webhook calls, so an
	// endpoint can tell a call came from this deployment.
	metaWebhook = "webhook-signing-key"
)

// LoadKeys returns the audit keys, creating them in st on first start. It
// returns an error when the root key cannot open them.
func LoadKeys(ctx context.Context, st store.Store, r root.Provider) (*Keys, error) {
	var k *Keys
	err := st.Update(ctx, func(tx store.Tx) error {
		hm, err := sealedMeta(ctx, tx, r, metaHMAC, func() ([]byte, error) { return randomBytes(32) })
		if err != nil {
			return err
		}
		seed, err := sealedMeta(ctx, tx, r, metaSigner, func() ([]byte, error) { return randomBytes(ed25519.SeedSize) })
		if err != nil {
			return err
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		k = &Keys{HMAC: hm, Signer: priv, Public: pub, KeyID: KeyID(pub)}
		wseed, err := sealedMeta(ctx, tx, r, metaWebhook, func() ([]byte, error) { return randomBytes(ed25519.SeedSize) })
		if err != nil {
			return err
		}
		k.Webhook = ed25519.NewKeyFromSeed(wseed)
		k.WebhookKeyID = KeyID(k.Webhook.Public().(ed25519.PublicKey))
		return tx.SetMeta(ctx, metaPublic, hex.EncodeToString(pub))
	})
	if err != nil {
		return nil, fmt.Errorf("audit keys: %w", err)
	}
	return k, nil
}

// KeyID names a checkpoint signing key: the first 16 hex digits of the
// SHA-256 of its public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKey returns the checkpoint verification key stored in tx.
func PublicKey(ctx context.Context, tx store.Tx) (ed25519.PublicKey, error) {
	s, err := tx.Meta(ctx, metaPublic)
	if err != nil {
		return nil, fmt.Errorf("audit public key: %w", err)
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fault.E("audit.PublicKey", fault.Internal, "the stored audit public key is malformed")
	}
	return b, nil
}

// sealedMeta returns the secret stored sealed under name, generating and
// storing it when absent.
func sealedMeta(ctx context.Context, tx store.Tx, r root.Provider, name string, gen func() ([]byte, error)) ([]byte, error) {
	aad := keys.AAD("coffer/" + name)
	v, err := tx.Meta(ctx, name)
	if err == nil {
		sealed, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%s is corrupt: %w", name, err)
		}
		return r.Unwrap(ctx, sealed, aad)
	}
	if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	secret, err := gen()
	if err != nil {
		return nil, err
	}
	sealed, err := r.Wrap(ctx, secret, aad)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", name, err)
	}
	return secret, tx.SetMeta(ctx, name, base64.StdEncoding.EncodeToString(sealed))
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}
