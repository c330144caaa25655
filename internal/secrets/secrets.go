// Package secrets is the core of Coffer: secrets, their versions and stage
// labels, and the lifecycle rules every API family shares (statuses,
// deletion windows, limits, idempotent writes).
//
// It knows nothing of HTTP or wire codes: it returns fault errors, and each
// edge maps them onto its protocol.
package secrets

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Secret and Version are the store's records; the core is their only writer.
type (
	Secret  = store.Secret
	Version = store.Version
	Tag     = store.Tag
	Status  = store.SecretStatus
	Type    = store.SecretType
)

// Scope is where a call acts: one account in one region.
type Scope struct {
	Account string
	Region  string
}

// Limits bound what a caller may store.
type Limits struct {
	MaxValueBytes   int // largest value, in bytes
	MaxVersions     int // versions a secret may hold
	MaxSecrets      int // secrets an account may hold in a region
	MaxRecoveryDays int // longest deletion window
	MaxListLimit    int // largest page
}

// DefaultLimits are the limits when Service.Limits is zero.
var DefaultLimits = Limits{
	MaxValueBytes:   64 << 10,
	MaxVersions:     10,
	MaxSecrets:      100000,
	MaxRecoveryDays: 30,
	MaxListLimit:    1000,
}

// Service applies the lifecycle rules. Its exported methods are each one
// transaction.
type Service struct {
	Store  store.Store
	Keys   *keys.Keyring
	Audit  *audit.Log // nil: state changes are not audited (unit tests)
	Limits Limits
	Clock  func() time.Time // nil means time.Now

	// OnChange, when set, is called after every committed write (the
	// replication shipper starts a pass).
	OnChange func()
	// SharedStore says other servers write the store too (PostgreSQL):
	// what this server keeps about listings then also expires by time.
	SharedStore bool
	// ReadCacheEntries bounds the read cache (readcache.go): 0 for
	// DefaultReadCacheEntries, negative to turn it off.
	ReadCacheEntries int

	watchOnce sync.Once
	notified  bool          // the store reports its changes and no other server writes it (watch)
	listed    atomic.Uint64 // counts writes that changed what listings hold (countGen)
	cache     *readCache    // nil when off
	checked   *readCache    // over a shared store: entries checked on use (checkedcache.go); nil when off
	changes   hub           // wakes WaitChange after every committed write
	counts    countCache    // listings' totals, until the next write
	cursors   cursorCache   // listings' checkpoints for deep offsets, likewise
}

func (s *Service) limits() Limits {
	if s.Limits == (Limits{}) {
		return DefaultLimits
	}
	return s.Limits
}

// now is read once per transaction, at millisecond precision as stored.
func (s *Service) now() time.Time {
	c := s.Clock
	if c == nil {
		c = time.Now
	}
	return c().UTC().Truncate(time.Millisecond)
}

// update runs fn in a write transaction that also appends the audit event
// of the call in ctx (audit.Log.Update).
func (s *Service) update(ctx context.Context, fn func(tx store.Tx, now time.Time) error) error {
	err := s.Audit.Update(ctx, s.Store, s.now, fn)
	if err == nil {
		s.changes.broadcast()
		if s.OnChange != nil {
			s.OnChange()
		}
	}
	return err
}

func (s *Service) view(ctx context.Context, fn func(tx store.Tx, now time.Time) error) error {
	now := s.now()
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(tx, now) })
}

// load returns the named secret in scope, or NotFound. A pinned name
// (Pin) finds the secret only if its id starts with the pin.
func load(ctx context.Context, tx store.Tx, op string, sc Scope, name string) (*Secret, error) {
	name, pin, _ := strings.Cut(name, pinSep)
	if err := CheckName(op, name); err != nil {
		return nil, err
	}
	sec, err := tx.Secret(ctx, sc.Account, sc.Region, name)
	if err == nil && !strings.HasPrefix(sec.ID, pin) {
		err = fault.E(op, fault.NotFound, "")
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "secret "+name+" does not exist")
	}
	return sec, err
}

// pinSep cannot occur in a name (CheckName refuses it).
const pinSep = "\x00"

// Pin returns a name that every method resolves to the secret called name
// only while that secret's id starts with idPrefix, so a call addressed to
// one incarnation of a secret (an AWS ARN with its suffix) never reaches a
// later secret of the same name.
func Pin(name, idPrefix string) string { return name + pinSep + idPrefix }

// Unpin returns the name a pinned name (Pin) refers to; other names as they are.
func Unpin(name string) string {
	plain, _, _ := strings.Cut(name, pinSep)
	return plain
}

// statusError returns the error for a secret whose status forbids op, or nil
// when the status is one of allowed.
func statusError(op string, sec *Secret, allowed ...Status) error {
	for _, a := range allowed {
		if sec.Status == a {
			return nil
		}
	}
	e := fault.E(op, fault.WrongState, "secret "+sec.Name+" is "+string(sec.Status))
	switch sec.Status {
	case store.StatusDisabled:
		return e.Because(fault.SecretDisabled)
	case store.StatusPendingDelete:
		return e.Because(fault.SecretPendingDeletion)
	case store.StatusCreating, store.StatusFailed:
		return e.Because(fault.SecretCreating)
	case store.StatusEnabled:
		return e.Because(fault.SecretEnabled)
	}
	return e
}

// managed reports whether a secret's values belong to a rotator rather than
// to hand edits.
func managed(sec *Secret) bool {
	switch sec.Type {
	case store.TypeDatabase, store.TypeSSHKey, store.TypeAPIKey:
		return true
	}
	return false
}

func denyManaged(op string, sec *Secret) error {
	if managed(sec) {
		return fault.E(op, fault.WrongState, "secret "+sec.Name+" is managed by rotation and cannot be changed by hand").Because(fault.AutoRotated)
	}
	return nil
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns n random characters of [0-9A-Za-z].
func NewID(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4*62: no modulo bias
				out = append(out, idAlphabet[int(c)%len(idAlphabet)])
			}
		}
	}
	return string(out)
}

// NewUUID returns a random (version 4) UUID, the default version id.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	return formatUUID(b)
}

// NewRequestID returns a time-ordered (version 7, RFC 9562) UUID: its first
// 48 bits are the Unix time in milliseconds, the rest random. Request ids
// are indexed in the audit log, and ids that grow with time are inserted
// at the end of that index instead of on a random page of it, which made
// every audited call write a page of its own there.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	return formatUUID(b)
}

// formatUUID sets b's variant and writes it in the 8-4-4-4-12 form.
func formatUUID(b [16]byte) string {
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// valueAAD binds a sealed value to where it belongs, so a row copied onto
// another secret or version does not decrypt.
func valueAAD(sec *Secret, versionID string) []byte {
	return keys.AAD("coffer/value", sec.Account, sec.Region, sec.ID, versionID)
}

// ValueLimit returns the largest value, in bytes, the service stores.
func (s *Service) ValueLimit() int { return s.limits().MaxValueBytes }

// SecretLimit returns how many secrets an account may hold in a region.
func (s *Service) SecretLimit() int { return s.limits().MaxSecrets }
