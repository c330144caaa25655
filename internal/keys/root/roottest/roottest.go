// Package roottest is the conformance suite of root.Provider: round trips,
// empty plaintext, AAD binding, tamper detection, randomized output and
// concurrent use. Every provider's tests open a provider and call Run.
package roottest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root"
)

// Run checks p against the root.Provider contract. secrets are strings (a
// PIN, an API secret key) that must appear neither in p's printed forms nor
// in the errors it returns; the plaintexts the suite wraps must not appear
// in errors either.
func Run(t *testing.T, p root.Provider, secrets ...string) {
	t.Helper()
	s := &suite{p: p, secrets: secrets}
	t.Run("Describe", s.describe)
	t.Run("RoundTrip", s.roundTrip)
	t.Run("EmptyPlaintext", s.emptyPlaintext)
	t.Run("NilAndEmptyAAD", s.nilAndEmptyAAD)
	t.Run("AADBinding", s.aadBinding)
	t.Run("Tamper", s.tamper)
	t.Run("Randomized", s.randomized)
	t.Run("Concurrent", s.concurrent)
	t.Run("Redacted", s.redacted)
}

type suite struct {
	p       root.Provider
	secrets []string

	mu    sync.Mutex
	errs  []error  // every error the provider returned, checked by redacted
	texts [][]byte // every plaintext wrapped
}

func (s *suite) describe(t *testing.T) {
	if d := s.p.Describe(); strings.TrimSpace(d) == "" {
		t.Fatal("Describe is empty")
	}
}

func (s *suite) roundTrip(t *testing.T) {
	for _, n := range []int{1, 16, 32, 64, 1000} {
		pt, aad := Random(t, n), Random(t, 24)
		w := s.mustWrap(t, pt, aad)
		if n >= 16 && bytes.Contains(w, pt) {
			t.Fatalf("%d bytes: the wrapped text contains the plaintext", n)
		}
		if got := s.mustUnwrap(t, w, aad); !bytes.Equal(got, pt) {
			t.Fatalf("%d bytes: Unwrap = %x, want %x", n, got, pt)
		}
	}
}

func (s *suite) emptyPlaintext(t *testing.T) {
	for _, pt := range [][]byte{nil, {}} {
		w := s.mustWrap(t, pt, []byte("empty"))
		got := s.mustUnwrap(t, w, []byte("empty"))
		if len(got) != 0 {
			t.Fatalf("Unwrap of wrapped %#v = %#v, want no bytes", pt, got)
		}
	}
}

// nilAndEmptyAAD: a nil aad and an empty one are the same binding.
func (s *suite) nilAndEmptyAAD(t *testing.T) {
	pt := Random(t, 32)
	if got := s.mustUnwrap(t, s.mustWrap(t, pt, nil), []byte{}); !bytes.Equal(got, pt) {
		t.Fatalf("wrapped with nil aad, unwrapped with empty: %x, want %x", got, pt)
	}
	if got := s.mustUnwrap(t, s.mustWrap(t, pt, []byte{}), nil); !bytes.Equal(got, pt) {
		t.Fatalf("wrapped with empty aad, unwrapped with nil: %x, want %x", got, pt)
	}
}

func (s *suite) aadBinding(t *testing.T) {
	pt := Random(t, 32)
	aad := []byte("account=1/cmk=alpha")
	w := s.mustWrap(t, pt, aad)
	for _, other := range [][]byte{nil, []byte("account=1/cmk=alphb"), []byte("account=1/cmk=alpha "), aad[:len(aad)-1]} {
		s.wantKeyUnavailable(t, fmt.Sprintf("aad %q", other), w, other)
	}
	unbound := s.mustWrap(t, pt, nil)
	s.wantKeyUnavailable(t, "aad added", unbound, aad)
}

func (s *suite) tamper(t *testing.T) {
	pt, aad := Random(t, 32), []byte("tamper")
	w := s.mustWrap(t, pt, aad)
	for _, i := range []int{0, 1, len(w) / 2, len(w) - 2, len(w) - 1} {
		bad := bytes.Clone(w)
		bad[i] ^= 0x01
		s.wantKeyUnavailable(t, fmt.Sprintf("bit flipped at %d of %d", i, len(w)), bad, aad)
	}
	s.wantKeyUnavailable(t, "truncated by one", w[:len(w)-1], aad)
	s.wantKeyUnavailable(t, "truncated to half", w[:len(w)/2], aad)
	s.wantKeyUnavailable(t, "one byte appended", append(bytes.Clone(w), 0), aad)
	s.wantKeyUnavailable(t, "empty", []byte{}, aad)
	s.wantKeyUnavailable(t, "nil", nil, aad)
	s.wantKeyUnavailable(t, "random bytes", Random(t, len(w)), aad)
}

func (s *suite) randomized(t *testing.T) {
	pt, aad := Random(t, 32), []byte("twice")
	if bytes.Equal(s.mustWrap(t, pt, aad), s.mustWrap(t, pt, aad)) {
		t.Fatal("two Wraps of one plaintext are equal: the output must be randomized")
	}
}

func (s *suite) concurrent(t *testing.T) {
	const workers, rounds = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				errs <- s.roundTripOnce(t.Context(), fmt.Appendf(nil, "worker %d round %d", w, r))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func (s *suite) roundTripOnce(ctx context.Context, aad []byte) error {
	pt := make([]byte, 32)
	rand.Read(pt)
	w, err := s.p.Wrap(ctx, pt, aad)
	if err != nil {
		return fmt.Errorf("Wrap: %w", err)
	}
	got, err := s.p.Unwrap(ctx, w, aad)
	if err != nil {
		return fmt.Errorf("Unwrap: %w", err)
	}
	if !bytes.Equal(got, pt) {
		return fmt.Errorf("Unwrap = %x, want %x", got, pt)
	}
	return nil
}

// redacted runs last: it reads the errors the other subtests collected.
func (s *suite) redacted(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v %s", s.p, s.p, s.p, s.p)
	slog.New(slog.NewTextHandler(&b, nil)).Info("provider", "p", s.p)
	printed := b.String()
	for _, secret := range s.secrets {
		if secret != "" && strings.Contains(printed, secret) {
			t.Errorf("the provider's printed form shows a secret: %s", printed)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.errs {
		text := err.Error()
		for _, secret := range s.secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
		for _, pt := range s.texts {
			if len(pt) >= 8 && leaks(text, pt) {
				t.Errorf("error shows a plaintext: %v", err)
			}
		}
	}
}

func leaks(text string, pt []byte) bool {
	for _, enc := range []string{string(pt), hex.EncodeToString(pt), base64.StdEncoding.EncodeToString(pt), base64.RawStdEncoding.EncodeToString(pt)} {
		if strings.Contains(text, enc) {
			return true
		}
	}
	return false
}

func (s *suite) mustWrap(t *testing.T, pt, aad []byte) []byte {
	t.Helper()
	s.mu.Lock()
	s.texts = append(s.texts, pt)
	s.mu.Unlock()
	w, err := s.p.Wrap(t.Context(), pt, aad)
	if err != nil {
		t.Fatalf("Wrap(%d bytes): %v", len(pt), err)
	}
	return w
}

func (s *suite) mustUnwrap(t *testing.T, w, aad []byte) []byte {
	t.Helper()
	got, err := s.p.Unwrap(t.Context(), w, aad)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	return got
}

func (s *suite) wantKeyUnavailable(t *testing.T, what string, w, aad []byte) {
	t.Helper()
	got, err := s.p.Unwrap(t.Context(), w, aad)
	if err != nil {
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}
	if !fault.Is(err, fault.KeyUnavailable) {
		t.Errorf("%s: Unwrap = %x, %v; want a KeyUnavailable error", what, got, err)
	}
}

// Random returns n random bytes.
func Random(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}
