// Package keys owns envelope encryption: every secret version is sealed under
// its own data key, data keys are wrapped by a customer master key (CMK)
// version, and CMK material is wrapped by the root key (keys/root).
package keys

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/aead"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// DefaultAlias names the CMK created for each account and region on first
// use, the one secrets use when they name no key.
const DefaultAlias = "coffer/default"

// Keyring seals and opens values under CMKs. It caches unwrapped CMK
// material in memory so the root key is used once per key version.
type Keyring struct {
	Root  root.Provider
	NewID func() string // returns a new CMK id
	// OnLookup, when set, is told whether each look-up of CMK material
	// was served from the cache.
	OnLookup func(hit bool)
	// MaterialTTL bounds how long unwrapped CMK material stays in memory
	// before the root key must unwrap it again; 0 means DefaultMaterialTTL.
	MaterialTTL time.Duration

	mu    sync.RWMutex
	cache map[materialID]cached
}

// DefaultMaterialTTL is how long unwrapped CMK material is kept by default.
const DefaultMaterialTTL = time.Hour

type cached struct {
	b     []byte
	until time.Time
}

type materialID struct {
	key     string
	version int
}

// Sealed is a value sealed under a data key, with the data key wrapped by a CMK version.
type Sealed struct {
	Ciphertext []byte
	WrappedKey []byte
	KeyID      string
	KeyVersion int
}

// DefaultKey returns the account's default CMK in the region, creating it
// in tx on first use.
func (r *Keyring) DefaultKey(ctx context.Context, tx store.Tx, account, region string, now time.Time) (*store.Key, error) {
	k, err := tx.KeyByAlias(ctx, account, region, DefaultAlias)
	if err == nil || !fault.Is(err, fault.NotFound) {
		return k, err
	}
	k = &store.Key{
		ID: r.NewID(), Account: account, Region: region, Alias: DefaultAlias,
		Description: "Default key for secrets", State: store.KeyEnabled, Default: true, CreatedAt: now,
	}
	if err := r.AddVersion(ctx, k, now); err != nil {
		return nil, err
	}
	if err := tx.InsertKey(ctx, k); err != nil {
		return nil, fmt.Errorf("store default key: %w", err)
	}
	return k, nil
}

// AddVersion generates new material for k, wraps it with the root key and
// appends it as k's current version. The caller stores k.
func (r *Keyring) AddVersion(ctx context.Context, k *store.Key, now time.Time) error {
	material, err := aead.NewKey()
	if err != nil {
		return fault.Wrap("keys.AddVersion", fault.Internal, "cannot generate key material", err)
	}
	v := len(k.Material) + 1
	wrapped, err := r.Root.Wrap(ctx, material, materialAAD(k, v))
	if err != nil {
		return fmt.Errorf("wrap key material: %w", err)
	}
	k.Material = append(k.Material, store.KeyMaterial{Version: v, Wrapped: wrapped, CreatedAt: now})
	r.remember(materialID{k.ID, v}, material)
	return nil
}

// Seal encrypts plaintext under a fresh data key bound to aad, and wraps
// the data key with k's current version. It returns fault.KeyUnavailable
// when k is not enabled.
func (r *Keyring) Seal(ctx context.Context, k *store.Key, plaintext, aad []byte) (Sealed, error) {
	const op = "keys.Seal"
	if err := usable(op, k); err != nil {
		return Sealed{}, err
	}
	cur := k.Material[len(k.Material)-1]
	material, err := r.material(ctx, k, cur)
	if err != nil {
		return Sealed{}, err
	}
	dek, err := aead.NewKey()
	if err != nil {
		return Sealed{}, fault.Wrap(op, fault.Internal, "cannot generate data key", err)
	}
	ct, err := aead.Seal(dek, plaintext, aad)
	if err != nil {
		return Sealed{}, fault.Wrap(op, fault.Internal, "cannot seal value", err)
	}
	wrapped, err := aead.Seal(material, dek, dataKeyAAD(k.ID, cur.Version))
	if err != nil {
		return Sealed{}, fault.Wrap(op, fault.Internal, "cannot wrap data key", err)
	}
	return Sealed{Ciphertext: ct, WrappedKey: wrapped, KeyID: k.ID, KeyVersion: cur.Version}, nil
}

// Open decrypts s with k. It returns fault.KeyUnavailable when k is not
// enabled, lacks the version s names, or the data does not authenticate.
func (r *Keyring) Open(ctx context.Context, k *store.Key, s Sealed, aad []byte) ([]byte, error) {
	const op = "keys.Open"
	if err := usable(op, k); err != nil {
		return nil, err
	}
	if s.KeyID != k.ID || s.KeyVersion < 1 || s.KeyVersion > len(k.Material) {
		return nil, fault.E(op, fault.KeyUnavailable, "the key version that sealed this value is not available")
	}
	material, err := r.material(ctx, k, k.Material[s.KeyVersion-1])
	if err != nil {
		return nil, err
	}
	dek, err := aead.Open(material, s.WrappedKey, dataKeyAAD(k.ID, s.KeyVersion))
	if err != nil {
		return nil, fault.Wrap(op, fault.KeyUnavailable, "cannot unwrap data key", err)
	}
	pt, err := aead.Open(dek, s.Ciphertext, aad)
	if err != nil {
		return nil, fault.Wrap(op, fault.KeyUnavailable, "cannot decrypt value", err)
	}
	return pt, nil
}

func usable(op string, k *store.Key) error {
	if k.State != store.KeyEnabled {
		return fault.E(op, fault.KeyUnavailable, "key "+k.ID+" is "+string(k.State))
	}
	if len(k.Material) == 0 {
		return fault.E(op, fault.KeyUnavailable, "key "+k.ID+" has no material")
	}
	return nil
}

func (r *Keyring) material(ctx context.Context, k *store.Key, m store.KeyMaterial) ([]byte, error) {
	id := materialID{k.ID, m.Version}
	r.mu.RLock()
	c, ok := r.cache[id]
	r.mu.RUnlock()
	ok = ok && time.Now().Before(c.until)
	if r.OnLookup != nil {
		r.OnLookup(ok)
	}
	if ok {
		return c.b, nil
	}
	b, err := r.Root.Unwrap(ctx, m.Wrapped, materialAAD(k, m.Version))
	if err != nil {
		return nil, fmt.Errorf("unwrap key %s version %d: %w", k.ID, m.Version, err)
	}
	r.remember(id, b)
	return b, nil
}

// remember caches material until its TTL passes. Expired entries are
// dropped (not zeroed: a reader may still hold the slice) as new ones come.
func (r *Keyring) remember(id materialID, b []byte) {
	ttl := r.MaterialTTL
	if ttl <= 0 {
		ttl = DefaultMaterialTTL
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = make(map[materialID]cached)
	}
	for k, c := range r.cache {
		if now.After(c.until) {
			delete(r.cache, k)
		}
	}
	r.cache[id] = cached{b: b, until: now.Add(ttl)}
}

// AAD joins parts into additional authenticated data, each part length-prefixed
// so that no two different lists of parts give the same bytes.
func AAD(domain string, parts ...string) []byte {
	b := make([]byte, 0, 64)
	for _, p := range append([]string{domain}, parts...) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func materialAAD(k *store.Key, version int) []byte {
	return AAD("coffer/cmk", k.Account, k.Region, k.ID, fmt.Sprint(version))
}

func dataKeyAAD(keyID string, version int) []byte {
	return AAD("coffer/dek", keyID, fmt.Sprint(version))
}

// Encrypt seals plaintext directly under k's current version (KMS
// Encrypt): no data key, for small values. It returns the version used.
func (r *Keyring) Encrypt(ctx context.Context, k *store.Key, plaintext, aad []byte) (int, []byte, error) {
	const op = "keys.Encrypt"
	if err := usable(op, k); err != nil {
		return 0, nil, err
	}
	cur := k.Material[len(k.Material)-1]
	material, err := r.material(ctx, k, cur)
	if err != nil {
		return 0, nil, err
	}
	ct, err := aead.Seal(material, plaintext, directAAD(k.ID, cur.Version, aad))
	if err != nil {
		return 0, nil, fault.Wrap(op, fault.Internal, "cannot encrypt", err)
	}
	return cur.Version, ct, nil
}

// Decrypt opens what Encrypt sealed with version of k. It returns
// fault.KeyUnavailable when k is not enabled, lacks the version, or the
// ciphertext or aad does not authenticate.
func (r *Keyring) Decrypt(ctx context.Context, k *store.Key, version int, ct, aad []byte) ([]byte, error) {
	const op = "keys.Decrypt"
	if err := usable(op, k); err != nil {
		return nil, err
	}
	if version < 1 || version > len(k.Material) {
		return nil, fault.E(op, fault.KeyUnavailable, "the key version that sealed this value is not available")
	}
	material, err := r.material(ctx, k, k.Material[version-1])
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(material, ct, directAAD(k.ID, version, aad))
	if err != nil {
		return nil, fault.Wrap(op, fault.KeyUnavailable, "the ciphertext does not authenticate under this key and encryption context", err)
	}
	return pt, nil
}

// Rewrap moves a sealed value's data key to k's current version without
// touching the value itself. A value already under the current version is
// returned as it is.
func (r *Keyring) Rewrap(ctx context.Context, k *store.Key, s Sealed) (Sealed, error) {
	const op = "keys.Rewrap"
	if err := usable(op, k); err != nil {
		return Sealed{}, err
	}
	cur := k.Material[len(k.Material)-1]
	if s.KeyVersion == cur.Version {
		return s, nil
	}
	if s.KeyID != k.ID || s.KeyVersion < 1 || s.KeyVersion > len(k.Material) {
		return Sealed{}, fault.E(op, fault.KeyUnavailable, "the key version that sealed this value is not available")
	}
	old, err := r.material(ctx, k, k.Material[s.KeyVersion-1])
	if err != nil {
		return Sealed{}, err
	}
	dek, err := aead.Open(old, s.WrappedKey, dataKeyAAD(k.ID, s.KeyVersion))
	if err != nil {
		return Sealed{}, fault.Wrap(op, fault.KeyUnavailable, "cannot unwrap data key", err)
	}
	defer clear(dek)
	material, err := r.material(ctx, k, cur)
	if err != nil {
		return Sealed{}, err
	}
	wrapped, err := aead.Seal(material, dek, dataKeyAAD(k.ID, cur.Version))
	if err != nil {
		return Sealed{}, fault.Wrap(op, fault.Internal, "cannot wrap data key", err)
	}
	return Sealed{Ciphertext: s.Ciphertext, WrappedKey: wrapped, KeyID: k.ID, KeyVersion: cur.Version}, nil
}

// Forget drops a key's cached material: after crypto-shredding.
func (r *Keyring) Forget(keyID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.cache {
		if id.key == keyID {
			delete(r.cache, id)
		}
	}
}

func directAAD(keyID string, version int, aad []byte) []byte {
	return AAD("coffer/kms-direct", keyID, fmt.Sprint(version), string(aad))
}
