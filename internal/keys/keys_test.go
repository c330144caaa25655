package keys_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/store"
)

func mustKeyfile(t testing.TB) *keyfile.File {
	t.Helper()
	f, err := keyfile.Open(filepath.Join(t.TempDir(), "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustKey(t testing.TB, r *keys.Keyring) *store.Key {
	t.Helper()
	k := &store.Key{ID: "key-1", Account: "100000000001", Region: "ap-guangzhou", State: store.KeyEnabled}
	if err := r.AddVersion(context.Background(), k, time.Now()); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	r := &keys.Keyring{Root: mustKeyfile(t)}
	k := mustKey(t, r)
	aad := keys.AAD("coffer/value", "acct", "region", "secret", "v1")
	s, err := r.Seal(ctx, k, []byte("hunter2"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, []byte("hunter2")) {
		t.Fatal("ciphertext holds the plaintext")
	}
	got, err := r.Open(ctx, k, s, aad)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v; want hunter2", got, err)
	}
	// A second seal of the same value uses a new data key and nonce.
	s2, _ := r.Seal(ctx, k, []byte("hunter2"), aad)
	if bytes.Equal(s.Ciphertext, s2.Ciphertext) || bytes.Equal(s.WrappedKey, s2.WrappedKey) {
		t.Fatal("two seals gave the same ciphertext or wrapped key")
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	r := &keys.Keyring{Root: mustKeyfile(t)}
	k := mustKey(t, r)
	aad := keys.AAD("coffer/value", "acct", "region", "secret", "v1")
	good, err := r.Seal(ctx, k, []byte("hunter2"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte) []byte { c := bytes.Clone(b); c[len(c)-1] ^= 1; return c }
	disabled := *k
	disabled.State = store.KeyDisabled
	tests := []struct {
		name string
		key  *store.Key
		s    keys.Sealed
		aad  []byte
	}{
		{"other secret's aad", k, good, keys.AAD("coffer/value", "acct", "region", "other", "v1")},
		{"other version's aad", k, good, keys.AAD("coffer/value", "acct", "region", "secret", "v2")},
		{"tampered ciphertext", k, keys.Sealed{Ciphertext: flip(good.Ciphertext), WrappedKey: good.WrappedKey, KeyID: k.ID, KeyVersion: 1}, aad},
		{"tampered wrapped key", k, keys.Sealed{Ciphertext: good.Ciphertext, WrappedKey: flip(good.WrappedKey), KeyID: k.ID, KeyVersion: 1}, aad},
		{"unknown key version", k, keys.Sealed{Ciphertext: good.Ciphertext, WrappedKey: good.WrappedKey, KeyID: k.ID, KeyVersion: 2}, aad},
		{"disabled key", &disabled, good, aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Open(ctx, tt.key, tt.s, tt.aad)
			if got != nil || !fault.Is(err, fault.KeyUnavailable) {
				t.Fatalf("Open = %q, %v; want nil, KeyUnavailable", got, err)
			}
		})
	}
}

func TestWrongRootKey(t *testing.T) {
	ctx := context.Background()
	r := &keys.Keyring{Root: mustKeyfile(t)}
	k := mustKey(t, r)
	s, err := r.Seal(ctx, k, []byte("hunter2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := &keys.Keyring{Root: mustKeyfile(t)} // empty cache, different root key
	if _, err := other.Open(ctx, k, s, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("Open under another root key: %v, want KeyUnavailable", err)
	}
}

func TestRotatedKeyOpensOldVersions(t *testing.T) {
	ctx := context.Background()
	r := &keys.Keyring{Root: mustKeyfile(t)}
	k := mustKey(t, r)
	old, _ := r.Seal(ctx, k, []byte("v1"), nil)
	if err := r.AddVersion(ctx, k, time.Now()); err != nil {
		t.Fatal(err)
	}
	cur, _ := r.Seal(ctx, k, []byte("v2"), nil)
	if old.KeyVersion != 1 || cur.KeyVersion != 2 {
		t.Fatalf("key versions %d, %d; want 1, 2", old.KeyVersion, cur.KeyVersion)
	}
	fresh := &keys.Keyring{Root: r.Root} // no cached material
	for _, s := range []keys.Sealed{old, cur} {
		if _, err := fresh.Open(ctx, k, s, nil); err != nil {
			t.Fatalf("Open version %d: %v", s.KeyVersion, err)
		}
	}
}

func TestAADIsUnambiguous(t *testing.T) {
	if bytes.Equal(keys.AAD("d", "ab", "c"), keys.AAD("d", "a", "bc")) {
		t.Fatal("AAD(ab, c) == AAD(a, bc)")
	}
}

// TestKeyringOnLookup: material just generated is cached, so sealing
// under it is a hit; a fresh Keyring must unwrap it once.
func TestKeyringOnLookup(t *testing.T) {
	ctx := context.Background()
	var hits, misses int
	count := func(hit bool) {
		if hit {
			hits++
		} else {
			misses++
		}
	}
	root := mustKeyfile(t)
	r := &keys.Keyring{Root: root, OnLookup: count}
	k := mustKey(t, r)
	s, err := r.Seal(ctx, k, []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r2 := &keys.Keyring{Root: root, OnLookup: count}
	for range 2 {
		if _, err := r2.Open(ctx, k, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if hits != 2 || misses != 1 {
		t.Errorf("got %d hits, %d misses; want 2 and 1", hits, misses)
	}
}
