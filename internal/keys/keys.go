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

	mu    sync.RWMutex
	cache map[materialID][]byte
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
	b, ok := r.cache[id]
	r.mu.RUnlock()
	if r.OnLookup != nil {
		r.OnLookup(ok)
	}
	if ok {
		return b, nil
	}
	b, err := r.Root.Unwrap(ctx, m.Wrapped, materialAAD(k, m.Version))
	if err != nil {
		return nil, fmt.Errorf("unwrap key %s version %d: %w", k.ID, m.Version, err)
	}
	r.remember(id, b)
	return b, nil
}

func (r *Keyring) remember(id materialID, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = make(map[materialID][]byte)
	}
	r.cache[id] = b
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
