package store

import (
	"context"
	"time"
)

// Event is one audited call or system action: who did what to which
// resource, when, from where, and how it ended. It never holds a secret
// value: Params carries request parameters with values replaced by HMACs.
// Seq, PrevHash and Hash chain the events; the audit package sets them.
type Event struct {
	Seq           int64 // position in the chain, from 1; assigned by the audit log
	Time          time.Time
	Account       string
	PrincipalID   string
	PrincipalName string
	PrincipalKind string // root, user, role, system; "" when the caller was not identified
	Session       string // the role session behind the principal, if any
	AccessKeyID   string // the access key the request was signed with (as claimed, if it failed)
	SourceIP      string
	UserAgent     string
	Region        string
	Family        string // API family: ssm, secretsmanager, cloudaudit, coffer (system actions)
	Action        string
	ReadOnly      bool
	Resource      string // the resource the call names (a secret name), "" for none
	VersionID     string // the version read or written, "" for none
	RequestID     string
	ErrorCode     string // the caller's protocol error code; "" on success
	Params        string // request parameters as JSON, secret values replaced by HMACs
	PrevHash      []byte
	Hash          []byte
}

// Checkpoint is a signed statement of the chain's head at a sequence number.
type Checkpoint struct {
	Seq       int64
	Head      []byte // the Hash of event Seq (or the previous checkpoint's head when no event was added)
	Time      time.Time
	KeyID     string // which signing key: the hex SHA-256 prefix of its public key
	Signature []byte
}

// EventQuery selects events. Zero fields select everything.
type EventQuery struct {
	Account     string // "" for every account (verification, export)
	From, To    time.Time
	AfterSeq    int64 // only events with Seq > AfterSeq
	BeforeSeq   int64 // only events with Seq < BeforeSeq; 0 for no bound
	Action      []string
	Resource    string
	PrincipalID string
	AccessKeyID string
	RequestID   string
	ErrorCode   string
	ReadOnly    *bool
	Desc        bool // newest first (by Seq); default oldest first
	Limit       int  // 0 for no limit
}

// AuditTx reads and writes the audit chain.
type AuditTx interface {
	// AuditHead returns the last sequence number and hash of the chain; 0
	// and nil when nothing was ever appended.
	AuditHead(ctx context.Context) (int64, []byte, error)
	// SetAuditHead records the chain's new head.
	SetAuditHead(ctx context.Context, seq int64, hash []byte) error
	// InsertEvents stores events; Exists when a Seq is taken.
	InsertEvents(ctx context.Context, evs []*Event) error
	// Events returns the events matching q, ordered by Seq.
	Events(ctx context.Context, q EventQuery) ([]*Event, error)
	// DeleteEventsThrough removes every event with Seq <= seq and returns
	// how many it removed (retention).
	DeleteEventsThrough(ctx context.Context, seq int64) (int, error)
	// InsertCheckpoint stores a checkpoint; Exists when its Seq is taken.
	InsertCheckpoint(ctx context.Context, c *Checkpoint) error
	// Checkpoints returns up to limit checkpoints with Seq >= fromSeq,
	// oldest first; limit 0 for all.
	Checkpoints(ctx context.Context, fromSeq int64, limit int) ([]*Checkpoint, error)
	// LatestCheckpoint returns the checkpoint with the highest Seq; NotFound
	// when there is none.
	LatestCheckpoint(ctx context.Context) (*Checkpoint, error)
}
