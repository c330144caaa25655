package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
)

const eventCols = `seq, time, account, principal_id, principal_name, principal_kind,
	session, access_key_id, source_ip, user_agent, region, family, action, read_only,
	resource, version_id, request_id, error_code, params, prev_hash, hash`

const insertEvent = `INSERT INTO audit_events (` + eventCols + `) VALUES ($1, $2, $3, $4, $5,
	$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`

func eventArgs(e *store.Event) []any {
	return []any{e.Seq, millis(e.Time), e.Account, e.PrincipalID, e.PrincipalName,
		e.PrincipalKind, e.Session, e.AccessKeyID, e.SourceIP, e.UserAgent, e.Region,
		e.Family, e.Action, e.ReadOnly, e.Resource, e.VersionID, e.RequestID, e.ErrorCode,
		e.Params, blob(e.PrevHash), blob(e.Hash)}
}

func scanEvent(row pgx.Row) (*store.Event, error) {
	e := &store.Event{}
	err := row.Scan(&e.Seq, timeCol{&e.Time}, &e.Account, &e.PrincipalID, &e.PrincipalName,
		&e.PrincipalKind, &e.Session, &e.AccessKeyID, &e.SourceIP, &e.UserAgent, &e.Region,
		&e.Family, &e.Action, &e.ReadOnly, &e.Resource, &e.VersionID, &e.RequestID, &e.ErrorCode,
		&e.Params, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// AuditHead returns the chain's last sequence number and hash, or 0 and nil
// when no head was ever set. Failures are fault errors.
func (t *tx) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := t.conn.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, dbError("postgres.AuditHead", err, "audit head")
	}
	return seq, hash, nil
}

// SetAuditHead records the chain's head, replacing the one before.
// Failures are fault errors.
func (t *tx) SetAuditHead(ctx context.Context, seq int64, hash []byte) error {
	_, err := t.exec(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, seq, blob(hash))
	return dbError("postgres.SetAuditHead", err, "audit head")
}

// InsertEvents stores evs, all or none, in one round trip: Exists when a
// Seq is taken (or repeated in evs), and then none of evs is stored. Other
// failures are fault errors, also with none stored. An empty evs stores
// nothing.
func (t *tx) InsertEvents(ctx context.Context, evs []*store.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := savepoint()
	for _, e := range evs {
		b.Queue(insertEvent, eventArgs(e)...)
	}
	return dbError("postgres.InsertEvents", t.atomic(ctx, b), "audit event")
}

// Events returns the events matching q by Seq, oldest first unless q.Desc.
// The window is From <= Time < To, both bounds compared to the millisecond
// as stored times are; a zero bound is none, and an event with the zero
// Time matches no bounded window. Failures are fault errors.
func (t *tx) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	query, args := eventQuery(q)
	out, err := queryAll(ctx, t, scanEvent, query, args...)
	if err != nil {
		return nil, dbError("postgres.Events", err, "audit event")
	}
	return out, nil
}

// eventQuery returns the SELECT of q and its arguments: q's filters ANDed,
// in seq order. Unlike SQLite's, PostgreSQL's planner keeps statistics of
// the data and costs a LIMIT, so the choice among the indexes of migration
// 0002 is left to it. One action is an equality, not ANY: a scan of
// (account, action, seq) yields seq order only for an equality.
func eventQuery(q store.EventQuery) (string, []any) {
	var conds []string
	var p params
	where := func(cond string, arg any) {
		conds = append(conds, cond+p.add(arg))
	}
	for _, f := range []struct{ col, v string }{
		{"account", q.Account}, {"resource", q.Resource}, {"principal_id", q.PrincipalID},
		{"access_key_id", q.AccessKeyID}, {"request_id", q.RequestID}, {"error_code", q.ErrorCode},
	} {
		if f.v != "" {
			where(f.col+` = `, f.v)
		}
	}
	switch len(q.Action) {
	case 0:
	case 1:
		where(`action = `, q.Action[0])
	default:
		conds = append(conds, `action = ANY(`+p.add(q.Action)+`::text[])`)
	}
	if q.ReadOnly != nil {
		where(`read_only = `, *q.ReadOnly)
	}
	if !q.From.IsZero() {
		where(`time >= `, millis(q.From))
	}
	if !q.To.IsZero() {
		where(`time < `, millis(q.To))
	}
	if q.AfterSeq != 0 {
		where(`seq > `, q.AfterSeq)
	}
	if q.BeforeSeq != 0 {
		where(`seq < `, q.BeforeSeq)
	}
	query := `SELECT ` + eventCols + ` FROM audit_events`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	if q.Desc {
		query += ` ORDER BY seq DESC`
	} else {
		query += ` ORDER BY seq`
	}
	return query + ` LIMIT ` + p.add(limitArg(q.Limit)), p
}

// limitArg returns limit as a LIMIT parameter takes it: NULL for none.
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// DeleteEventsThrough removes every event with Seq <= seq and returns how
// many it removed. It leaves the head and the checkpoints alone. Failures
// are fault errors.
func (t *tx) DeleteEventsThrough(ctx context.Context, seq int64) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM audit_events WHERE seq <= $1`, seq)
	if err != nil {
		return 0, dbError("postgres.DeleteEventsThrough", err, "audit event")
	}
	return int(n), nil
}

const checkpointCols = `seq, head, time, key_id, signature`

func scanCheckpoint(row pgx.Row) (*store.Checkpoint, error) {
	c := &store.Checkpoint{}
	if err := row.Scan(&c.Seq, &c.Head, timeCol{&c.Time}, &c.KeyID, &c.Signature); err != nil {
		return nil, err
	}
	return c, nil
}

// InsertCheckpoint stores c; Exists when its Seq is taken. Other failures
// are fault errors.
func (t *tx) InsertCheckpoint(ctx context.Context, c *store.Checkpoint) error {
	_, err := t.exec(ctx, `INSERT INTO audit_checkpoints (`+checkpointCols+`)
		VALUES ($1, $2, $3, $4, $5)`, c.Seq, blob(c.Head), millis(c.Time), c.KeyID, blob(c.Signature))
	return dbError("postgres.InsertCheckpoint", err, "checkpoint")
}

// Checkpoints returns up to limit (all when limit <= 0) checkpoints with
// Seq >= fromSeq, oldest first. Failures are fault errors.
func (t *tx) Checkpoints(ctx context.Context, fromSeq int64, limit int) ([]*store.Checkpoint, error) {
	out, err := queryAll(ctx, t, scanCheckpoint, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE seq >= $1 ORDER BY seq LIMIT $2`, fromSeq, limitArg(limit))
	if err != nil {
		return nil, dbError("postgres.Checkpoints", err, "checkpoint")
	}
	return out, nil
}

// LatestCheckpoint returns the checkpoint with the highest Seq; NotFound
// when there is none. Other failures are fault errors.
func (t *tx) LatestCheckpoint(ctx context.Context) (*store.Checkpoint, error) {
	c, err := scanCheckpoint(t.conn.QueryRow(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoints
		ORDER BY seq DESC LIMIT 1`))
	if err != nil {
		return nil, dbError("postgres.LatestCheckpoint", err, "checkpoint")
	}
	return c, nil
}
