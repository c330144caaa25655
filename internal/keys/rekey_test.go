package keys_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// wrapped returns a copy of each version's wrapped material.
func wrapped(k *store.Key) [][]byte {
	out := make([][]byte, len(k.Material))
	for i, m := range k.Material {
		out[i] = bytes.Clone(m.Wrapped)
	}
	return out
}

// TestRewrapMaterial: a key whose first version is under the old root key
// and whose second is already under the new one (a server running with
// both added it) moves the first version only; afterwards the new key
// alone opens both, the old key alone neither, and a second pass changes
// nothing.
func TestRewrapMaterial(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := mustKeyfile(t), mustKeyfile(t)
	k := mustKey(t, &keys.Keyring{Root: oldKey})
	during := &keys.Keyring{Root: &root.Chain{Current: newKey, Previous: oldKey}}
	if err := during.AddVersion(ctx, k, time.Now()); err != nil {
		t.Fatal(err)
	}
	v1 := mustSeal(t, during, k, 1) // with the material of version 1 (as a re-read after restart would)
	before := wrapped(k)

	changed, err := keys.RewrapMaterial(ctx, k, oldKey, newKey)
	if err != nil || !changed {
		t.Fatalf("RewrapMaterial = %v, %v; want true, nil", changed, err)
	}
	if after := wrapped(k); bytes.Equal(after[0], before[0]) || !bytes.Equal(after[1], before[1]) {
		t.Fatal("want version 1 re-wrapped and version 2 (already under the new key) left as it was")
	}
	if got, err := (&keys.Keyring{Root: newKey}).Open(ctx, k, v1, aad); err != nil || string(got) != "v1" {
		t.Fatalf("open with the new root key alone: %q, %v", got, err)
	}
	if _, err := (&keys.Keyring{Root: oldKey}).Open(ctx, k, v1, aad); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("open with the old root key alone: %v, want KeyUnavailable", err)
	}
	again := wrapped(k)
	if changed, err := keys.RewrapMaterial(ctx, k, oldKey, newKey); err != nil || changed {
		t.Fatalf("second RewrapMaterial = %v, %v; want false, nil", changed, err)
	}
	if !slices.EqualFunc(again, wrapped(k), bytes.Equal) {
		t.Fatal("the second pass changed the material")
	}
}

var aad = keys.AAD("coffer/test", "secret", "v1")

// mustSeal seals "v1" under version of k.
func mustSeal(t *testing.T, r *keys.Keyring, k *store.Key, version int) keys.Sealed {
	t.Helper()
	only := *k
	only.Material = k.Material[:version]
	s, err := r.Seal(context.Background(), &only, []byte("v1"), aad)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRewrapMaterialRefuses: material neither key opens, or a key holder
// that cannot be reached, fails with the right kind and changes nothing.
func TestRewrapMaterialRefuses(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey, stranger := mustKeyfile(t), mustKeyfile(t), mustKeyfile(t)
	k := mustKey(t, &keys.Keyring{Root: oldKey})
	before := wrapped(k)
	tests := []struct {
		name     string
		from, to root.Provider
		want     fault.Kind
	}{
		{"neither key opens it", stranger, newKey, fault.KeyUnavailable},
		{"new key unreachable", oldKey, down{}, fault.Unavailable},
		{"old key unreachable", down{}, newKey, fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, err := keys.RewrapMaterial(ctx, k, tt.from, tt.to)
			if changed || !fault.Is(err, tt.want) {
				t.Fatalf("RewrapMaterial = %v, %v; want false and a %v error", changed, err, tt.want)
			}
			if !slices.EqualFunc(before, wrapped(k), bytes.Equal) {
				t.Fatal("a failed re-wrap changed the key")
			}
		})
	}
}

// down is a key holder that cannot be reached.
type down struct{}

func (down) Wrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, fault.E("down.Wrap", fault.Unavailable, "unreachable")
}

func (down) Unwrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, fault.E("down.Unwrap", fault.Unavailable, "unreachable")
}

func (down) Describe() string { return "down" }
