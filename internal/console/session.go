package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
)

// Session defaults.
const (
	defaultTTL         = 8 * time.Hour
	defaultIdle        = 30 * time.Minute
	defaultMaxSessions = 10000
)

// Cookie names. Over TLS the cookie takes the __Host- prefix, which the
// browser accepts only when Secure, for path / and without a domain, so
// no other host or plain-HTTP page can plant it.
const (
	cookieTLS   = "__Host-coffer_console"
	cookiePlain = "coffer_console"
	// preCookie carries the sign-in form's CSRF token (double submit):
	// there is no session yet to hold it.
	preCookieTLS   = "__Host-coffer_signin"
	preCookiePlain = "coffer_signin"
)

// session is a signed-in person. The table holds it in memory only: a
// restart signs everyone out, and with several servers a session lives on
// the server that created it.
type session struct {
	key       [32]byte // SHA-256 of the cookie's id: the table never holds the id itself
	csrf      string
	principal iam.Principal
	// pwTag fingerprints the user's password hash at sign-in, so a
	// password change ends the user's other sessions.
	pwTag   [32]byte
	region  string
	created time.Time
	seen    time.Time
	flash   flash
}

// flash is a message shown once, on the next page.
type flash struct {
	Msg string
	Err bool
}

// sessions is the in-memory session table.
type sessions struct {
	mu    sync.Mutex
	m     map[[32]byte]*session
	clock func() time.Time
	ttl   time.Duration
	idle  time.Duration
	max   int
}

func newSessions(clock func() time.Time, ttl, idle time.Duration, max int) *sessions {
	if ttl <= 0 {
		ttl = defaultTTL
	}
	if idle <= 0 {
		idle = defaultIdle
	}
	if max <= 0 {
		max = defaultMaxSessions
	}
	return &sessions{m: map[[32]byte]*session{}, clock: clock, ttl: ttl, idle: idle, max: max}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for p and returns its cookie id.
func (t *sessions) create(p iam.Principal, pwTag [32]byte, region string) (string, *session) {
	id := randomToken()
	now := t.clock()
	s := &session{key: sha256.Sum256([]byte(id)), csrf: randomToken(), principal: p, pwTag: pwTag,
		region: region, created: now, seen: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	if len(t.m) >= t.max {
		t.evictOldest()
	}
	t.m[s.key] = s
	return id, s
}

// get returns a copy of the live session with cookie id and marks it used;
// false when there is none or it has expired.
func (t *sessions) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	key := sha256.Sum256([]byte(id))
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if !ok {
		return session{}, false
	}
	if t.expired(s, now) {
		delete(t.m, key)
		return session{}, false
	}
	s.seen = now
	return *s, true
}

func (t *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.created) >= t.ttl || now.Sub(s.seen) >= t.idle
}

// update changes a live session; it does nothing when the session ended.
func (t *sessions) update(key [32]byte, fn func(*session)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[key]; ok {
		fn(s)
	}
}

// takeFlash returns and clears the session's flash message.
func (t *sessions) takeFlash(key [32]byte) flash {
	var f flash
	t.update(key, func(s *session) { f, s.flash = s.flash, flash{} })
	return f
}

func (t *sessions) end(key [32]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// prune drops expired sessions; the caller holds mu.
func (t *sessions) prune(now time.Time) {
	for k, s := range t.m {
		if t.expired(s, now) {
			delete(t.m, k)
		}
	}
}

// evictOldest drops the least recently used session; the caller holds mu.
func (t *sessions) evictOldest() {
	var oldest *session
	for _, s := range t.m {
		if oldest == nil || s.seen.Before(oldest.seen) {
			oldest = s
		}
	}
	if oldest != nil {
		delete(t.m, oldest.key)
	}
}

// checkCSRF reports whether a form's token is the session's, in constant time.
func checkCSRF(want, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func sessionCookieName(r *http.Request) string {
	if r.TLS != nil {
		return cookieTLS
	}
	return cookiePlain
}

func preCookieName(r *http.Request) string {
	if r.TLS != nil {
		return preCookieTLS
	}
	return preCookiePlain
}

// cookie builds one of the console's cookies: HttpOnly, SameSite=Strict,
// and Secure with the __Host- prefix over TLS.
func cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
	if r.TLS != nil {
		c.Secure, c.Path = true, "/"
	}
	return c
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
