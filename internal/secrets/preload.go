package secrets

import (
	"context"
	"strings"
)

// preloadKey carries a secret already read for this call.
type preloadKey struct{}

type preloaded struct {
	sc   Scope
	name string
	sec  *Secret
}

// WithLoaded returns ctx carrying sec, read for a call in scope sc by name
// (as the caller named it, pins included), so that a read of the same
// secret in that call need not read it again. The gate reads a secret's
// metadata to authorize a call; GetValue reuses it. Describe and writes
// read again in their own transaction, so what they see is of one moment.
func WithLoaded(ctx context.Context, sc Scope, name string, sec *Secret) context.Context {
	return context.WithValue(ctx, preloadKey{}, &preloaded{sc: sc, name: name, sec: sec})
}

// loadForRead is load for read-only calls: the secret the call's context
// carries when it is the one named, else a fresh read.
func loadForRead(ctx context.Context, sc Scope, name string, fresh func() (*Secret, error)) (*Secret, error) {
	if p, ok := ctx.Value(preloadKey{}).(*preloaded); ok && p.sc == sc && p.name == name && p.sec != nil {
		plain, pin, _ := strings.Cut(name, pinSep)
		if p.sec.Name == plain && strings.HasPrefix(p.sec.ID, pin) {
			c := *p.sec
			return &c, nil
		}
	}
	return fresh()
}
