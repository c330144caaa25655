package secrets

import (
	"context"
	"strings"
	"sync"

	"github.com/coffer-secrets/coffer/internal/store"
)

// The checked read cache. Over a store that other servers write too
// (Service.SharedStore: PostgreSQL), no server hears of the others' writes,
// so the read cache (readcache.go) is off. A server still keeps what its
// reads read, in a second readCache that no change report empties, and
// uses an entry only after one statement (store.Revisioner) finds the
// secret's revision, and the revision of the CMK that seals the version,
// as the entry has them: every change to a secret, its versions or their
// labels moves the secret's revision, and every change to a CMK moves the
// key's. A read served so returns what a read transaction would have
// returned when that statement ran. It is a read of two rows by primary
// key instead of a read transaction of four statements or more.
//
// An entry is kept whole or not at all (keepRead), so that a version
// never sits beside a secret of another revision; the revisions only grow,
// so an entry filled from a slower read finds itself behind and is read
// again, never served.

// checkedCache returns the checked read cache, or nil when it is off.
func (s *Service) checkedCache() *readCache {
	s.watch()
	return s.checked
}

// revisions returns the store's Revisioner; the checked cache is on only
// over one.
func (s *Service) revisions() store.Revisioner {
	r, _ := s.Store.(store.Revisioner)
	return r
}

// checkedSecret returns the cached secret called name in sc if its
// revision is still the store's, or NotFound when that secret is not the
// one a pinned name asks for. A failed check is a miss: the read
// transaction that follows meets the failure and reports it.
func (s *Service) checkedSecret(ctx context.Context, op string, sc Scope, name string) (*Secret, bool, error) {
	c := s.checkedCache()
	if c == nil {
		return nil, false, nil
	}
	plain, pin, _ := strings.Cut(name, pinSep)
	sec, ok := c.secret(sc, plain)
	if !ok {
		return nil, false, nil
	}
	rev, keyRev, err := s.revisions().Revisions(ctx, sec.ID, sec.Account, sec.Region, sec.KeyID)
	if err != nil || rev != sec.Revision {
		return nil, false, nil
	}
	if ch, ok := ctx.Value(checksKey{}).(*checks); ok {
		ch.note(revisionCheck{secretID: sec.ID, secret: rev, keyID: sec.KeyID, key: keyRev})
	}
	sec, err = pinned(op, sec, plain, pin)
	return sec, true, err
}

// checks is one call's record of the last revisions the checked cache
// found current during the call: the gate checks the secret for
// authorization (Meta), and the value read that follows in the same call
// may rely on that check instead of asking the store again. The call then
// reads as of its authorization, a moment inside the call.
type checks struct {
	mu   sync.Mutex
	last revisionCheck
}

type revisionCheck struct {
	secretID string
	secret   int64
	keyID    string
	key      int64
}

type checksKey struct{}

// WithChecks returns ctx carrying an empty record of revision checks for
// one call, when the checked cache is on (else ctx): the gate makes one for
// each call, before it authorizes it.
func (s *Service) WithChecks(ctx context.Context) context.Context {
	if s == nil || s.checkedCache() == nil { // a gate without secrets (tests)
		return ctx
	}
	return context.WithValue(ctx, checksKey{}, &checks{})
}

func (c *checks) note(r revisionCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = r
}

// covers reports whether the call checked sec at its revision and key at
// its revision.
func (c *checks) covers(sec *Secret, key *store.Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.last
	return r.secretID == sec.ID && r.secret == sec.Revision && r.keyID == key.ID && r.key == key.Revision
}

// checkedRead returns the cached secret called name in sc, the version
// sel picked of it and the CMK that seals that version, if all three are
// cached, the secret is Enabled and both revisions are still the store's.
func (s *Service) checkedRead(ctx context.Context, sc Scope, name string, sel Selector) (*Secret, *Version, *store.Key, bool) {
	c := s.checkedCache()
	if c == nil {
		return nil, nil, nil, false
	}
	plain, pin, _ := strings.Cut(name, pinSep)
	sec, ok := c.secret(sc, plain)
	if !ok || !strings.HasPrefix(sec.ID, pin) || sec.Status != store.StatusEnabled || RolloutOf(sec) != nil {
		return nil, nil, nil, false
	}
	ver, ok := c.version(sc, plain, sec.ID, sel)
	if !ok {
		return nil, nil, nil, false
	}
	key, ok := c.key(sec.Account, sec.Region, ver.KeyID)
	if !ok {
		return nil, nil, nil, false
	}
	if ch, ok := ctx.Value(checksKey{}).(*checks); ok && ch.covers(sec, key) {
		return sec, ver, key, true // checked in this call already
	}
	secRev, keyRev, err := s.revisions().Revisions(ctx, sec.ID, key.Account, key.Region, key.ID)
	if err != nil || secRev != sec.Revision || keyRev != key.Revision {
		return nil, nil, nil, false
	}
	return sec, ver, key, true
}

// keepMeta keeps sec, read in a read transaction.
func (c *readCache) keepMeta(sec *Secret) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keepSecret(sec)
}

// keepRead keeps what one read found: sec, the version sel picked and the
// key that seals it, together. A version picked by a roll-out depends on
// the caller and is never kept.
func (c *readCache) keepRead(sec *Secret, sel Selector, ver *Version, key *store.Key) {
	if c == nil || RolloutOf(sec) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keepSecret(sec)
	c.keepVersion(sec, sel, ver)
	c.keepKey(key)
}

// accessed notes in the cached copy of sec the access day noteAccess
// stored, which moves no revision: otherwise every read served from the
// cache would store the day again.
func (c *readCache) accessed(sec *Secret) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.secrets.get(nameKey{sec.Account, sec.Region, sec.Name}); ok && e.sec.ID == sec.ID && e.sec.AccessedAt.Before(sec.AccessedAt) {
		e.sec.AccessedAt = sec.AccessedAt
	}
}
