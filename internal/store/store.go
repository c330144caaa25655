// Package store is Coffer's storage port: the records Coffer persists and the
// transaction interface every backend (store/sqlite, store/postgres) implements.
//
// Backends hold no rules: the core decides what may change, the store keeps
// it durable and reports NotFound, Exists and Conflict as fault errors. The
// conformance suite in store/storetest pins the contract down.
package store

import (
	"context"
	"time"
)

// Store opens transactions. Implementations are safe for concurrent use.
//
// Update calls must not nest, and fn should be short and do no slow I/O of
// its own: a backend may serialize writers (SQLite has one), so a slow fn
// stalls every other write.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil. It returns fn's error, or a fault.Unavailable error when
	// the backend cannot be reached, or fault.Conflict on a serialization
	// failure the caller may retry.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the backend.
	Close() error
}

// Tx is one transaction. Reads see the transaction's own writes. Methods
// return fault errors: NotFound when a record is absent, Exists on a
// uniqueness violation, Conflict when an optimistic revision check fails.
// A method that fails leaves the transaction as it was, still usable.
// Names are case-sensitive; times are kept to the millisecond.
type Tx interface {
	SecretTx
	KeyTx
	AccountTx
	IAMTx
	AuditTx
	UsageTx
	MetaTx
	RotationTx
}

// SecretTx reads and writes secrets and their versions.
type SecretTx interface {
	// Secret returns the secret with the given name in (account, region).
	Secret(ctx context.Context, account, region, name string) (*Secret, error)
	// SecretByID returns the secret with the given id.
	SecretByID(ctx context.Context, id string) (*Secret, error)
	// InsertSecret stores a new secret; Exists when (account, region, name) is taken,
	// Invalid when a replica's SyncedAt lies outside the years 0 to 9999.
	InsertSecret(ctx context.Context, s *Secret) error
	// UpdateSecret stores s if its Revision matches the stored one, and
	// increments s.Revision; Conflict otherwise, Invalid as for InsertSecret.
	// It stores every field but AccessedAt, which only SetAccessed moves (so
	// a write based on an older read never moves it back).
	UpdateSecret(ctx context.Context, s *Secret) error
	// TouchSecret stores s.UpdatedAt if s.Revision matches the stored one,
	// and increments s.Revision; Conflict otherwise, NotFound when there is
	// no such secret. It is UpdateSecret for a write that changed a secret's
	// versions and nothing else of it: one statement instead of a rewrite
	// of the row and its tags.
	TouchSecret(ctx context.Context, s *Secret) error
	// DeleteSecret removes a secret, its tags and all its versions.
	DeleteSecret(ctx context.Context, id string) error
	// ListSecrets returns one page of the secrets matching q and the total
	// number of matches before paging.
	ListSecrets(ctx context.Context, q SecretQuery) ([]*Secret, int, error)
	// SetAccessed records a read of a secret's value: AccessedAt becomes t
	// when t is later. It changes no Revision, so readers never conflict
	// with writers; NotFound when the secret does not exist.
	SetAccessed(ctx context.Context, id string, t time.Time) error
	// SecretsDue returns up to limit secrets pending deletion whose
	// DeleteAt is at or before t, in DeleteAt order.
	SecretsDue(ctx context.Context, t time.Time, limit int) ([]*Secret, error)
	// CountSecrets returns how many secrets (any status) an account holds in a region.
	CountSecrets(ctx context.Context, account, region string) (int, error)
	// SecretCursors returns the positions of the every-th, 2·every-th, …
	// secret matching q in q's order (q.After, q.Offset, q.Limit and the
	// exact-name-first rule of q.Search ignored): the checkpoints from which
	// a deep Offset becomes a keyset seek. every must be positive.
	SecretCursors(ctx context.Context, q SecretQuery, every int) ([]Cursor, error)
	// ReplicatedSecrets returns up to limit secrets, any account and
	// region, that have Replicas, in ID order after afterID ("" starts at
	// the beginning).
	ReplicatedSecrets(ctx context.Context, afterID string, limit int) ([]*Secret, error)
	// SetReplicas replaces only a secret's Replicas (the shipper recording
	// what a replica acknowledged): Revision and UpdatedAt stay, so the
	// record of a sync is not itself a change to ship. NotFound when the
	// secret does not exist.
	SetReplicas(ctx context.Context, id string, rs []Replica) error

	// InsertVersion stores a new version; Exists when the id or the token is
	// taken in its secret, or a stage label is already on another version;
	// NotFound when the secret does not exist. Seq values are never reused.
	InsertVersion(ctx context.Context, v *Version) error
	// Version returns one version of a secret.
	Version(ctx context.Context, secretID, versionID string) (*Version, error)
	// VersionByStage returns the version carrying a stage label.
	VersionByStage(ctx context.Context, secretID, stage string) (*Version, error)
	// VersionByToken returns the version created with an idempotency token.
	VersionByToken(ctx context.Context, secretID, token string) (*Version, error)
	// Versions returns every version of a secret, oldest first (by Seq).
	Versions(ctx context.Context, secretID string) ([]*Version, error)
	// VersionList is Versions without the sealed values (Ciphertext and
	// WrappedKey nil): what counting and moving stage labels need. Never
	// hand one of its versions to UpdateVersion, which would store it
	// without its value: move labels with SetStages.
	VersionList(ctx context.Context, secretID string) ([]*Version, error)
	// StageHolders returns the versions of a secret that carry a stage
	// label, each with only SecretID, ID and Stages (sorted) set, by
	// version id, and how many versions the secret has in all: what a put
	// and a version delete need to move labels and keep to the version
	// limit, without reading the versions themselves. None and 0 when the
	// secret has no versions or does not exist.
	StageHolders(ctx context.Context, secretID string) (holders []*Version, total int, err error)
	// SetStages replaces a version's stage labels and nothing else;
	// NotFound when the version does not exist, Exists when a label is on
	// another version of the secret (to move a label, first set the
	// stages of the version that loses it).
	SetStages(ctx context.Context, secretID, versionID string, stages []string) error
	// UpdateVersion replaces a version's stages and sealed value.
	UpdateVersion(ctx context.Context, v *Version) error
	// DeleteVersion removes one version.
	DeleteVersion(ctx context.Context, secretID, versionID string) error
	// VersionsByKey returns up to limit versions whose data key is wrapped
	// by CMK keyID at a version below belowVersion, in (SecretID, ID)
	// order after the position (afterSecret, afterVersion) ("" starts at
	// the beginning), for re-wrapping.
	VersionsByKey(ctx context.Context, keyID string, belowVersion int, afterSecret, afterVersion string, limit int) ([]*Version, error)
	// RewrapVersion replaces only a version's wrapped data key and CMK
	// version, if the stored CMK version is still fromKeyVersion: Conflict
	// otherwise, NotFound when the version is gone. Stages and value are
	// untouched, so it never undoes a concurrent stage move.
	RewrapVersion(ctx context.Context, v *Version, fromKeyVersion int) error
	// CountVersionsByKey counts the versions wrapped by keyID, and those
	// wrapped at a version below belowVersion.
	CountVersionsByKey(ctx context.Context, keyID string, belowVersion int) (total, below int, err error)
}

// KeyTx reads and writes customer master keys.
type KeyTx interface {
	// Key returns a CMK by id (within its account and region).
	Key(ctx context.Context, account, region, id string) (*Key, error)
	// KeyByAlias returns a CMK by alias.
	KeyByAlias(ctx context.Context, account, region, alias string) (*Key, error)
	// InsertKey stores a new CMK; Exists when its id or (account, region, alias) is taken.
	InsertKey(ctx context.Context, k *Key) error
	// UpdateKey stores k if its Revision matches, incrementing it; Conflict otherwise.
	UpdateKey(ctx context.Context, k *Key) error
	// Keys lists an account's CMKs in a region, oldest first.
	Keys(ctx context.Context, account, region string) ([]*Key, error)
	// KeysDue returns up to limit keys, any account and region, that need
	// the key sweeper: PendingDelete with DeleteAt at or before t, or
	// rotation enabled with Rotation.Next at or before t; oldest first.
	KeysDue(ctx context.Context, t time.Time, limit int) ([]*Key, error)
	// AllKeys returns every key of every account, for re-wrapping under a
	// new root key.
	AllKeys(ctx context.Context) ([]*Key, error)
}

// AccountTx reads and writes accounts and access keys.
type AccountTx interface {
	// Account returns an account by id.
	Account(ctx context.Context, id string) (*Account, error)
	// InsertAccount stores a new account; Exists when the id is taken.
	InsertAccount(ctx context.Context, a *Account) error
	// AccessKey returns an access key by id.
	AccessKey(ctx context.Context, id string) (*AccessKey, error)
	// InsertAccessKey stores a new access key; Exists when the id is taken.
	InsertAccessKey(ctx context.Context, k *AccessKey) error
	// UpdateAccessKey replaces an access key's status, description and
	// last-used time.
	UpdateAccessKey(ctx context.Context, k *AccessKey) error
	// DeleteAccessKey removes an access key; NotFound when absent.
	DeleteAccessKey(ctx context.Context, id string) error
	// AllAccessKeys lists every access key of every account, by id.
	AllAccessKeys(ctx context.Context) ([]*AccessKey, error)
	// SetAccessKeySealed replaces an access key's sealed secret half (a
	// root-key rotation); NotFound when absent.
	SetAccessKeySealed(ctx context.Context, id string, sealed []byte) error
	// AccessKeys lists the access keys of a principal, oldest first.
	AccessKeys(ctx context.Context, account, principal string) ([]*AccessKey, error)
}

// MetaTx keeps small deployment-wide settings (the generated TLS
// fingerprint, the root credentials' id, the key-check value of the root key).
type MetaTx interface {
	// Meta returns the value stored under key; NotFound when unset.
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta stores value under key, replacing any earlier value.
	SetMeta(ctx context.Context, key, value string) error
}

// RotationTx reads and writes rotation runs and registered databases.
type RotationTx interface {
	// InsertRotationRun stores a new run and sets r.ID to a new flow id,
	// larger than every earlier one in the deployment.
	InsertRotationRun(ctx context.Context, r *RotationRun) error
	// UpdateRotationRun replaces a run (matched by ID); NotFound when absent.
	UpdateRotationRun(ctx context.Context, r *RotationRun) error
	// RotationRun returns a run by flow id.
	RotationRun(ctx context.Context, id int64) (*RotationRun, error)
	// RotationRuns returns up to limit runs of a secret (by secret id),
	// newest first.
	RotationRuns(ctx context.Context, secretID string, limit int) ([]*RotationRun, error)
	// RotationRunsDue returns up to limit Running runs, any account, whose
	// NextAt is at or before t, by (NextAt, ID).
	RotationRunsDue(ctx context.Context, t time.Time, limit int) ([]*RotationRun, error)
	// SecretsRotationDue returns up to limit Enabled secrets, any account,
	// with rotation enabled and Rotation.Next at or before t (and not zero),
	// by (Rotation.Next, ID).
	SecretsRotationDue(ctx context.Context, t time.Time, limit int) ([]*Secret, error)

	// InsertDatabase stores a database; Exists when (account, region, id) is taken.
	InsertDatabase(ctx context.Context, d *Database) error
	// Database returns a registered database.
	Database(ctx context.Context, account, region, id string) (*Database, error)
	// Databases lists an account's databases in a region, by id.
	Databases(ctx context.Context, account, region string) ([]*Database, error)
	// UpdateDatabase replaces a database's fields (matched by account,
	// region, id); NotFound when absent.
	UpdateDatabase(ctx context.Context, d *Database) error
	// DeleteDatabase removes a database; NotFound when absent.
	DeleteDatabase(ctx context.Context, account, region, id string) error
}

// Changes is what one write transaction changed, as far as the caches of
// secrets and keys care.
type Changes struct {
	Secrets []string // ids of secrets whose row, tags, stages or versions changed
	Keys    bool     // a CMK's row or material changed
	// Listed: a secret was created or deleted, or its status or type
	// changed — what decides which secrets a listing filtered by status
	// and type holds, and at which position in creation or name order.
	Listed bool
	// Authz: the ids among Secrets of secrets changed in more than their
	// versions, stage labels and times — created, deleted, or changed in
	// a field of their row, their tags or their replicas. What
	// authorization reads of a secret (its name, creator, tags and
	// resource policy) changes only with such a change, so a put leaves
	// it cached (secrets.Service.Authz).
	Authz []string
}

// ChangeNotifier is implemented by a store whose writes all go through this
// process (the embedded store): what it reports lets the core cache reads
// and drop exactly what a write made stale.
type ChangeNotifier interface {
	// OnChange registers f, called after every write transaction that
	// changed secrets or keys, before Update returns; also when the commit
	// failed, as the outcome of a failed commit is not always known. f must
	// be quick and must not use the store.
	OnChange(f func(Changes))
}

// Revisioner is implemented by a store that reads the revisions of a
// secret and a CMK in one statement, outside any transaction: what a server
// that shares its store with others checks the reads it cached against.
type Revisioner interface {
	// Revisions returns the Revision of the secret secretID and of the CMK
	// keyID in (account, region), each -1 when there is no such record, as
	// committed when it runs. Every UpdateSecret and TouchSecret raises a
	// secret's Revision, and the secrets service touches a secret with
	// every change to its versions or their labels; every UpdateKey raises
	// a key's, its state and material included.
	Revisions(ctx context.Context, secretID, account, region, keyID string) (secret, key int64, err error)
}

// Syncer is implemented by a store that can commit a transaction without
// waiting for the disk and make it durable later, so that one flush makes
// many commits durable while the next ones are written (the audit log's
// group commit). Whatever such a transaction writes is visible before it is
// durable: only for records nobody acts on before their writer is told they
// are durable.
type Syncer interface {
	// UpdateUnsynced is Update, committed without waiting for the disk.
	UpdateUnsynced(ctx context.Context, fn func(Tx) error) error
	// Sync makes every transaction committed before it began durable.
	Sync() error
}
