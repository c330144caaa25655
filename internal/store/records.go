package store

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SecretStatus is a secret's lifecycle state.
type SecretStatus string

// The statuses. Creating and Failed belong to asynchronous creation.
const (
	StatusEnabled       SecretStatus = "Enabled"
	StatusDisabled      SecretStatus = "Disabled"
	StatusPendingDelete SecretStatus = "PendingDelete"
	StatusCreating      SecretStatus = "Creating"
	StatusFailed        SecretStatus = "Failed"
)

// SecretType says what a secret holds and who manages it.
type SecretType int

// The types, numbered as Tencent SSM numbers them.
const (
	TypeUserDefined SecretType = 0
	TypeDatabase    SecretType = 1
	TypeSSHKey      SecretType = 2
	TypeAPIKey      SecretType = 3
	TypeRedis       SecretType = 4
)

// Tag is a key/value pair on a secret.
type Tag struct {
	Key   string
	Value string
}

// Rotation is a secret's rotation schedule.
type Rotation struct {
	Enabled bool
	Days    int       // interval between rotations
	Begin   time.Time // first rotation; zero when unset
	Next    time.Time // next scheduled rotation; zero when none
	Last    time.Time // last completed rotation; zero when never
	Rotator string    // which rotator runs it (e.g. a webhook URL or a database id)
}

// Secret is a secret's metadata. Its values live in Versions.
type Secret struct {
	ID            string // opaque, immutable, unique across the deployment
	Account       string
	Region        string
	Name          string // unique per (Account, Region) while the secret exists
	Description   string
	Type          SecretType
	KeyID         string // the CMK that wraps its data keys
	Status        SecretStatus
	DeleteAt      time.Time // when a PendingDelete secret is purged; zero otherwise
	CreatedAt     time.Time
	UpdatedAt     time.Time // last change of metadata or versions
	AccessedAt    time.Time // last read of a value; zero when never
	CreatedBy     string    // the principal id (uin) that created it
	Tags          []Tag     // in the order given at creation
	Config        string    // type-specific configuration (JSON), opaque to the store
	Product       string    // product name for database secrets; "" for user-defined
	ResourceID    string    // product instance id, or an opaque id
	Rotation      Rotation
	Policy        string    // resource policy document (JSON); "" for none
	Tagged        bool      // tags were set at some time (the AWS API shows Tags from then on, even empty)
	Replicas      []Replica // the regions the secret is replicated to (a primary); nil for none
	PrimaryRegion string    // for a replica: the region of its primary; "" for a primary
	Revision      int64     // optimistic concurrency: incremented by every UpdateSecret
}

// Replica is a region a secret is replicated to, as its primary records it.
type Replica struct {
	Region   string
	KeyID    string    // the CMK the replica is sealed with in that region; "" for the account's default there
	Status   string    // InProgress, InSync, Failed
	Message  string    // why it failed; "" otherwise
	Revision int64     // the primary's Revision the replica last acknowledged
	SyncedAt time.Time // when it last acknowledged; zero when never
}

// Version is one value of a secret.
type Version struct {
	SecretID   string
	ID         string
	Seq        int64    // creation order within the deployment; set by InsertVersion when 0
	Stages     []string // labels, each on at most one version of a secret
	Binary     bool     // the value is binary rather than a string
	Ciphertext []byte   // the value sealed under the data key
	WrappedKey []byte   // the data key wrapped by the CMK
	KeyID      string   // the CMK id
	KeyVersion int      // the CMK version that wrapped the data key
	Token      string   // the idempotency token it was created with; "" when none
	CreatedAt  time.Time
}

// KeyState is a CMK's state.
type KeyState string

// The CMK states.
const (
	KeyEnabled         KeyState = "Enabled"
	KeyDisabled        KeyState = "Disabled"
	KeyPendingDeletion KeyState = "PendingDelete"
	// KeyDeleted is a key whose deletion window passed: its material is
	// destroyed (Material is empty) and what it sealed is unreadable for
	// good. The record stays so secrets can say why.
	KeyDeleted KeyState = "Deleted"
)

// KeyRotation is a CMK's rotation schedule.
type KeyRotation struct {
	Enabled bool
	Days    int       // interval between rotations
	Next    time.Time // next scheduled rotation; zero when none
	Last    time.Time // last rotation; zero when never
}

// KeyMaterial is one version of a CMK, wrapped by the root key.
type KeyMaterial struct {
	Version   int
	Wrapped   []byte
	CreatedAt time.Time
}

// Key is a customer master key.
type Key struct {
	ID          string
	Account     string
	Region      string
	Alias       string // unique per (Account, Region) when non-empty
	Description string
	State       KeyState
	Default     bool // the account's default key in the region
	DeleteAt    time.Time
	CreatedAt   time.Time
	Material    []KeyMaterial // oldest first; the last is current
	Rotation    KeyRotation
	Revision    int64
}

// Account is a tenant.
type Account struct {
	ID        string // numeric string: the Tencent uin and the AWS account id
	Name      string
	CreatedAt time.Time
}

// AccessKeyStatus is an access key's state.
type AccessKeyStatus string

// The access key states.
const (
	AccessKeyActive   AccessKeyStatus = "Active"
	AccessKeyInactive AccessKeyStatus = "Inactive"
)

// AccessKey is an API credential. The secret half is sealed by the root key.
type AccessKey struct {
	ID          string
	Account     string
	Principal   string // the owning principal's id (the account id for the root)
	Sealed      []byte // the secret half, sealed by the root key
	Status      AccessKeyStatus
	Description string
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

// SortKey orders ListSecrets.
type SortKey string

// The sort keys. Every order breaks ties by Name in the same direction.
const (
	SortCreated  SortKey = ""         // CreatedAt
	SortName     SortKey = "name"     // Name alone
	SortChanged  SortKey = "changed"  // UpdatedAt
	SortAccessed SortKey = "accessed" // AccessedAt, never-read secrets as time zero
)

// Cursor is a position in a ListSecrets order: the sort value and the name
// of the last secret a page returned.
type Cursor struct {
	Time time.Time // the sort key's time; ignored for SortName
	Name string
}

// Rows is what ScanCursors reads: a *sql.Rows or a pgx.Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanCursors reads the (sort key in unix milliseconds, name) rows a
// backend's SecretCursors selects; timed says the order has a time key
// (the key column is then a time, else a placeholder).
func ScanCursors(rows Rows, timed bool) ([]Cursor, error) {
	var out []Cursor
	for rows.Next() {
		var ms int64
		var c Cursor
		if err := rows.Scan(&ms, &c.Name); err != nil {
			return nil, err
		}
		if timed {
			c.Time = time.UnixMilli(ms).UTC()
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SecretQuery selects secrets for ListSecrets.
type SecretQuery struct {
	Account   string
	Region    string
	Status    SecretStatus // "" for any
	NotStatus SecretStatus // "" for none; excludes one status (PendingDelete for AWS listings)
	Types     []SecretType // empty for any
	Search    string       // case-sensitive substring of the name; "" for any. Without After, an exact match sorts first.
	// NamePrefixes keeps the secrets whose names start with one of these
	// (case-sensitive, byte by byte); empty (or holding "") for any.
	NamePrefixes []string
	Tags         []TagFilter // ANDed
	Asc          bool        // ascending (default: descending), by the sort key then Name
	SortBy       SortKey
	After        *Cursor // keyset paging: only secrets strictly after this position (Offset then applies after it; the total ignores it)
	Offset       int
	Limit        int  // 0 means no limit
	NoTotal      bool // skip counting the matches (ListSecrets then returns -1)
}

// TagFilter matches secrets carrying Key with one of Values (any value when empty).
type TagFilter struct {
	Key    string
	Values []string
}

// RunState is where a rotation run stands.
type RunState string

// The run states. A Running run has a next step; the others have ended.
const (
	RunRunning    RunState = "Running"
	RunSucceeded  RunState = "Succeeded"
	RunFailed     RunState = "Failed"     // ended without a change: nothing to undo
	RunRolledBack RunState = "RolledBack" // ended after undoing what its steps did
)

// RotationRun is one rotation (or asynchronous creation) of a secret: a
// persistent state machine whose every step is recorded, so a server that
// restarts resumes it or rolls it back.
type RotationRun struct {
	ID         int64 // the flow id; assigned by InsertRotationRun, increasing
	Account    string
	Region     string
	SecretID   string
	SecretName string
	Kind       string // "create", "rotate" or "test"
	Rotator    string // the rotator that runs it
	VersionID  string // the pending version it creates
	Step       string // the next step to run; "" once ended
	State      RunState
	Attempts   int       // failed attempts of the current step
	Error      string    // the last failure, safe to show a client; "" when none
	Detail     string    // the rotator's own state (JSON), never a secret value
	NextAt     time.Time // a Running run is worked on at or after NextAt (retry back-off)
	StartedAt  time.Time
	UpdatedAt  time.Time
	EndedAt    time.Time // zero while Running
}

// Database is a database instance registered for credential rotation: the
// target of database secrets (Tencent's "product" instances).
type Database struct {
	ID          string // unique per (Account, Region)
	Account     string
	Region      string
	Engine      string // "postgresql" or "mysql"
	Host        string
	Port        int
	AdminSecret string // the name of the secret (same account and region) holding the admin credential
	Options     string // engine options (JSON): database name, TLS mode
	Description string
	CreatedAt   time.Time
}

// ExactFirst reports whether the exact-name-first rule of Search applies
// to q: a Search and no After (a keyset position means nothing in an order
// that puts one secret out of place). A store may then read the secret
// named q.Search apart, with one look-up by name, and the rest of the page
// in the order's index without it (AfterExact), rather than sort every
// match to put one first.
func ExactFirst(q SecretQuery) bool { return q.Search != "" && q.After == nil }

// AfterExact splits a page of q that ExactFirst applies to. Given exact,
// the secret named q.Search when it matches q and nil otherwise, it
// returns the query for the rest of the page, which the store runs
// without that secret, and what goes before the rest: exact on the first
// page, nothing on a later one. more is false when exact fills the page.
func AfterExact(q SecretQuery, exact *Secret) (rest SecretQuery, head []*Secret, more bool) {
	rest = q
	if exact == nil {
		return rest, nil, true
	}
	switch {
	case q.Offset > 0:
		rest.Offset-- // it was on an earlier page
		return rest, nil, true
	case q.Limit == 1:
		return rest, []*Secret{exact}, false
	case q.Limit > 1:
		rest.Limit--
	}
	return rest, []*Secret{exact}, true
}

// PrefixRange returns the names that start with prefix as a half-open
// range, [from, to), in byte order (which is code point order for UTF-8);
// to is "" when the range has no end. For a valid UTF-8 prefix the end
// increments its last character, so that it is valid UTF-8 too
// (PostgreSQL refuses anything else), and the range is exact over valid
// UTF-8 names, which are all there are (the APIs allow ASCII names only);
// a byte string such as "\xff" would sort into the range of "\U0010FFFF".
// For an invalid prefix the end increments its last byte, and the range is
// exact over all byte strings. from is prefix.
func PrefixRange(prefix string) (from, to string) {
	if !utf8.ValidString(prefix) {
		b := []byte(prefix)
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] < 0xff {
				b[i]++
				return prefix, string(b[:i+1])
			}
		}
		return prefix, ""
	}
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		switch r := rs[i] + 1; {
		case r > utf8.MaxRune:
			continue
		case r >= 0xD800 && r <= 0xDFFF: // surrogates are not characters
			rs[i] = 0xE000
		default:
			rs[i] = r
		}
		return prefix, string(rs[:i+1])
	}
	return prefix, ""
}

// PrefixCondition returns the SQL condition that col starts with one of
// prefixes, as PrefixRange's ranges ORed, for a column that compares
// bytes. arg adds a value to the statement's arguments and returns its
// placeholder.
func PrefixCondition(col string, prefixes []string, arg func(any) string) string {
	var b strings.Builder
	b.WriteString(`(`)
	for i, p := range prefixes {
		if i > 0 {
			b.WriteString(` OR `)
		}
		from, to := PrefixRange(p)
		b.WriteString(col + ` >= ` + arg(from))
		if to != "" {
			b.WriteString(` AND ` + col + ` < ` + arg(to))
		}
	}
	b.WriteString(`)`)
	return b.String()
}

// AnyName reports whether prefixes keep every name: none given, or "".
func AnyName(prefixes []string) bool {
	return len(prefixes) == 0 || slices.Contains(prefixes, "")
}
