// Package iam owns identities: accounts, the principals inside them, and the
// access keys they sign requests with. The secret half of an access key is
// sealed by the root key; it is shown once, at creation.
package iam

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// PrincipalKind says what kind of identity signed a request.
type PrincipalKind string

// The principal kinds.
const (
	KindRoot PrincipalKind = "root"
	KindUser PrincipalKind = "user"
	KindRole PrincipalKind = "role"
)

// Principal is an authenticated identity.
type Principal struct {
	Account     string // the account (tenant) id
	ID          string // the principal's own id: a user's uin, a role's id, the account id for the root
	Name        string // the user's or role's name; "root" for the root
	Kind        PrincipalKind
	AccessKeyID string
	// Tags are the principal's tags: a user's, or a role's merged with its
	// session's (aws:PrincipalTag, qcs:principal_tag).
	Tags map[string]string
	// Session is set for a role session (temporary credentials).
	Session *Session
}

// Credential is an access key with its secret half, as the signature check needs it.
type Credential struct {
	Principal Principal
	secret    []byte
}

// Secret returns the secret half. The caller must not log or keep it.
func (c *Credential) Secret() []byte { return c.secret }

// String hides the secret half.
func (c *Credential) String() string {
	return fmt.Sprintf("iam.Credential{%s [redacted]}", c.Principal.AccessKeyID)
}

// GoString hides the secret half.
func (c *Credential) GoString() string { return c.String() }

// LogValue hides the secret half.
func (c *Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Service owns accounts, users, groups, roles, access keys, policies and
// role sessions, and decides requests against policies (Authorize).
//
// It caches credentials and compiled policies in memory. Every change made
// through it drops the caches at once (Changed), so a disabled key or a
// detached policy applies to the next request; a change made by another
// server reaches this one through Changed too (the cluster's notifier
// calls it).
type Service struct {
	Store store.Store
	Root  root.Provider
	Clock func() time.Time
	// OnLookup, when set, is told whether each Lookup was served from the
	// credential cache.
	OnLookup func(hit bool)
	// OnChange, when set, is called after every committed change, so a
	// cluster can tell its other servers to call Changed.
	OnChange func()

	gen          atomic.Pointer[generation]
	lastUsed     sync.Map     // access key id → time.Time of its latest use
	lastWritten  sync.Map     // access key id → time.Time last written to the store
	sessions     sync.Map     // session token digest → *sessionEntry
	sessionCount atomic.Int64 // entries added to sessions since it was last emptied
}

// generation holds the caches valid until the next change.
type generation struct {
	creds  sync.Map // access key id → *Credential
	idents sync.Map // identityKey → *identity
	roles  sync.Map // account+"/"+role id → *Role (nil value: no such role)
}

func (s *Service) caches() *generation {
	for {
		if g := s.gen.Load(); g != nil {
			return g
		}
		s.gen.CompareAndSwap(nil, &generation{})
	}
}

// Changed drops every cached credential, role and policy. Calls made
// through the Service call it themselves.
func (s *Service) Changed() {
	s.gen.Store(&generation{})
	s.sessions.Range(func(k, _ any) bool { s.sessions.Delete(k); return true })
	if s.OnChange != nil {
		s.OnChange()
	}
}

// Invalidate drops the caches without calling OnChange: for a change made
// by another server.
func (s *Service) Invalidate() {
	s.gen.Store(&generation{})
	s.sessions.Range(func(k, _ any) bool { s.sessions.Delete(k); return true })
}

// Lookup returns the active credential with the given access key id. It
// returns fault.NotFound for an unknown id and fault.Denied for an inactive key.
func (s *Service) Lookup(ctx context.Context, id string) (*Credential, error) {
	const op = "iam.Lookup"
	g := s.caches()
	c, ok := g.creds.Load(id)
	if s.OnLookup != nil {
		s.OnLookup(ok)
	}
	if ok {
		return c.(*Credential), nil
	}
	var k *store.AccessKey
	var user *User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if k, err = tx.AccessKey(ctx, id); err != nil || k.Principal == k.Account {
			return err
		}
		user, err = userByUin(ctx, tx, op, k.Account, k.Principal)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "access key "+id+" does not exist")
	} else if err != nil {
		return nil, err
	}
	if k.Status != store.AccessKeyActive {
		return nil, fault.E(op, fault.Denied, "access key "+id+" is not active")
	}
	secret, err := s.Root.Unwrap(ctx, k.Sealed, accessKeyAAD(k.Account, k.ID))
	if err != nil {
		return nil, fmt.Errorf("unseal access key %s: %w", id, err)
	}
	p := Principal{Account: k.Account, ID: k.Principal, Name: "root", Kind: KindRoot}
	if user != nil {
		p = user.Principal()
	}
	p.AccessKeyID = k.ID
	cred := &Credential{Principal: p, secret: secret}
	g.creds.Store(id, cred)
	return cred, nil
}

func accessKeyAAD(account, id string) []byte { return keys.AAD("coffer/access-key", account, id) }

func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randReader(max *big.Int) (*big.Int, error) { return rand.Int(rand.Reader, max) }

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// NewAccountID returns a random 12-digit account id, valid both as a
// Tencent uin and an AWS account id.
func NewAccountID() string { return randomString("123456789", 1) + randomString("0123456789", 11) }

// NewAccessKeyID returns a new access key id: AKID and 32 characters.
func NewAccessKeyID() string { return "AKID" + randomString(alnum, 32) }

// NewSecretKey returns a new secret half: 40 characters.
func NewSecretKey() string { return randomString(alnum, 40) }
