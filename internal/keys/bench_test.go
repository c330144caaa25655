package keys_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// BenchmarkSeal and BenchmarkOpen: envelope encryption of a 1 KiB value
// with the CMK material cached (the steady state of a server): a fresh
// data key, AES-256-GCM of the value, the data key wrapped by the CMK; and
// back.
func BenchmarkSeal(b *testing.B) {
	ctx, r, k, value, aad := sealFixture(b)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal(ctx, k, value, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ctx, r, k, value, aad := sealFixture(b)
	s, err := r.Seal(ctx, k, value, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(ctx, k, s, aad); err != nil {
			b.Fatal(err)
		}
	}
}

// sealFixture returns a keyring over a fresh root key, a CMK, a 1 KiB value
// and its AAD.
func sealFixture(b *testing.B) (context.Context, *keys.Keyring, *store.Key, []byte, []byte) {
	r := &keys.Keyring{Root: mustKeyfile(b)}
	return context.Background(), r, mustKey(b, r), bytes.Repeat([]byte("v"), 1024),
		keys.AAD("coffer/value", "acct", "region", "secret", "v1")
}
