package api

import (
	"crypto/sha256"
	"sync"

	"github.com/coffer-secrets/coffer/internal/iam"
)

// maxSigningKeys bounds the signing-key cache; it is emptied when full (a
// key is derived again on its next use).
const maxSigningKeys = 10000

// signingKeys caches the signing keys derived from credentials' secrets
// (TC3 and SigV4 derive one per secret, day and scope with three or four
// HMACs), so a request costs one HMAC. A key is found only under the
// digest of the secret it was derived from: a credential whose secret is
// not the one cached derives its own.
type signingKeys struct {
	mu sync.Mutex
	m  map[signingKeyRef][]byte
}

type signingKeyRef struct {
	id, date, scope string
	secret          [sha256.Size]byte
}

// SigningKey returns the signing key of cred for the day and scope (the
// service, or region/service), derived by derive on a miss.
func (g *Gate) SigningKey(cred *iam.Credential, date, scope string, derive func(secret []byte) []byte) []byte {
	secret := cred.Secret()
	ref := signingKeyRef{id: cred.Principal.AccessKeyID, date: date, scope: scope, secret: sha256.Sum256(secret)}
	c := &g.signing
	c.mu.Lock()
	k, ok := c.m[ref]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = derive(secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSigningKeys {
		c.m = map[signingKeyRef][]byte{}
	}
	c.m[ref] = k
	return k
}
