package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/coffer-secrets/coffer/internal/store"
)

const eventCols = `seq, time, account, principal_id, principal_name, principal_kind,
	session, access_key_id, source_ip, user_agent, region, family, action, read_only,
	resource, version_id, request_id, error_code, params, prev_hash, hash`

const eventColCount = 21

// eventChunks are the numbers of events one INSERT of a batch stores,
// largest first: a batch goes in the fewest statements of these sizes
// (greedily: at most five for fewer than 32 events), each size one cached
// statement. The fixed cost of a statement in the driver is larger than
// SQLite's cost of a row, so a batch of 8 events is one statement, not 8.
var eventChunks = []int{16, 8, 4, 2, 1}

// indexMark is the seq the audit indexer has indexed every event up to
// (migrations/0011_audit_index.sql), as an SQL expression.
const indexMark = `(SELECT seq FROM audit_index_mark WHERE id = 1)`

// An event is inserted indexed only when its seq, given again as the row's
// last value, is at or below the index mark: one the indexer would not
// reach. SQLite reads the mark once a statement, so the hot path pays no
// round trip for it.
var eventRow = `(` + placeholders(eventColCount) + `, ? <= ` + indexMark + `)`

// insertEvents returns the INSERT of n events.
func insertEvents(n int) string {
	return `INSERT INTO audit_events (` + eventCols + `, indexed) VALUES ` +
		strings.TrimSuffix(strings.Repeat(eventRow+", ", n), ", ")
}

// insertEventsSQL holds insertEvents(n) for each n of eventChunks.
var insertEventsSQL = func() map[int]string {
	m := make(map[int]string, len(eventChunks))
	for _, n := range eventChunks {
		m[n] = insertEvents(n)
	}
	return m
}()

// eventArgs appends the values of an insert's row for e: its columns, then
// its seq again, for the indexed flag.
func eventArgs(args []any, e *store.Event) []any {
	return append(args, e.Seq, millis(e.Time), e.Account, e.PrincipalID, e.PrincipalName,
		e.PrincipalKind, e.Session, e.AccessKeyID, e.SourceIP, e.UserAgent, e.Region,
		e.Family, e.Action, e.ReadOnly, e.Resource, e.VersionID, e.RequestID, e.ErrorCode,
		e.Params, blob(e.PrevHash), blob(e.Hash), e.Seq)
}

func scanEvent(row scanner) (*store.Event, error) {
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
	err := t.tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, dbError("sqlite.AuditHead", err, "audit head")
	}
	return seq, hash, nil
}

// SetAuditHead records the chain's head, replacing the one before.
// Failures are fault errors.
func (t *tx) SetAuditHead(ctx context.Context, seq int64, hash []byte) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, seq, blob(hash))
	return dbError("sqlite.SetAuditHead", err, "audit head")
}

// InsertEvents stores evs with cached multi-row statements, all or
// none: Exists when a Seq is taken (or repeated in evs), and then none of
// evs is stored. Other failures are fault errors, also with none stored.
// An empty evs stores nothing.
//
// The events are left to the indexer (indexAudit), but for any at or below
// its mark, which are indexed at once.
func (t *tx) InsertEvents(ctx context.Context, evs []*store.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if t.ch != nil {
		t.ch.events = true
	}
	err := t.atomic(ctx, func() error {
		args := make([]any, 0, min(len(evs), eventChunks[0])*(eventColCount+1))
		for _, n := range eventChunks {
			for len(evs) >= n {
				args = args[:0]
				for _, e := range evs[:n] {
					args = eventArgs(args, e)
				}
				if _, err := t.tx.ExecContext(ctx, insertEventsSQL[n], args...); err != nil {
					return err
				}
				evs = evs[n:]
			}
		}
		return nil
	})
	return dbError("sqlite.InsertEvents", err, "audit event")
}

// auditIndexMark returns the seq the indexer has indexed every event up to.
func (t *tx) auditIndexMark(ctx context.Context) (int64, error) {
	var mark int64
	err := t.tx.QueryRowContext(ctx, `SELECT `+indexMark).Scan(&mark)
	return mark, err
}

// auditIndexBatch bounds the events one indexAudit indexes: each index
// page is then written once for up to this many events, while the writer,
// which every write and every audit commit waits for, is held for a
// millisecond or two.
const auditIndexBatch = 128

// indexAudit indexes up to limit events above the mark, oldest first, and
// moves the mark past them. It returns how many events it passed over:
// limit when more may wait.
func (t *tx) indexAudit(ctx context.Context, limit int) (int, error) {
	var passed int
	err := t.atomic(ctx, func() error {
		mark, err := t.auditIndexMark(ctx)
		if err != nil {
			return err
		}
		var upper sql.NullInt64
		err = t.tx.QueryRowContext(ctx, `SELECT max(seq), count(*) FROM (SELECT seq FROM audit_events
			WHERE seq > ? ORDER BY seq LIMIT ?)`, mark, limit).Scan(&upper, &passed)
		if err != nil || passed == 0 {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE audit_events SET indexed = 1
			WHERE seq > ? AND seq <= ? AND indexed = 0`, mark, upper.Int64); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `UPDATE audit_index_mark SET seq = ? WHERE id = 1`, upper.Int64)
		return err
	})
	if err != nil {
		return 0, dbError("sqlite.indexAudit", err, "audit event")
	}
	return passed, nil
}

// Events returns the events matching q by Seq, oldest first unless q.Desc.
// The window is From <= Time < To, both bounds compared to the millisecond
// as stored times are; a zero bound is none, and an event with the zero
// Time matches no bounded window. Failures are fault errors.
func (t *tx) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	const op = "sqlite.Events"
	query, args := eventQuery(q)
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbError(op, err, "audit event")
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, dbError(op, err, "audit event")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "audit event")
	}
	return out, nil
}

// eventQuery returns the SELECT of q and its arguments: q's filters ANDed,
// through the index eventIndex picks, in seq order.
func eventQuery(q store.EventQuery) (string, []any) {
	var conds []string
	var args []any
	where := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	for _, f := range []struct{ col, v string }{
		{"account", q.Account}, {"resource", q.Resource}, {"principal_id", q.PrincipalID},
		{"access_key_id", q.AccessKeyID}, {"request_id", q.RequestID}, {"error_code", q.ErrorCode},
	} {
		if f.v != "" {
			where(f.col+` = ?`, f.v)
		}
	}
	if len(q.Action) > 0 {
		conds = append(conds, `action IN (`+placeholders(len(q.Action))+`)`)
		for _, a := range q.Action {
			args = append(args, a)
		}
	}
	if q.ReadOnly != nil {
		where(`read_only = ?`, *q.ReadOnly)
	}
	if !q.From.IsZero() {
		where(`time >= ?`, millis(q.From))
	}
	if !q.To.IsZero() {
		where(`time < ?`, millis(q.To))
	}
	if q.AfterSeq != 0 {
		where(`seq > ?`, q.AfterSeq)
	}
	if q.BeforeSeq != 0 {
		where(`seq < ?`, q.BeforeSeq)
	}
	index := eventIndex(q)
	if index == "" {
		return eventSelect(index, conds, q.Desc, true), append(args, limitArg(q.Limit))
	}
	// Through an index, the indexed events; then by a scan of the table's
	// end, those the indexer has not reached, all above its mark.
	indexed := eventSelect(index, append([]string{`indexed = 1`}, conds...), false, false)
	tail := eventSelect("", append([]string{`seq > ` + indexMark,
		`indexed = 0`}, conds...), false, false)
	return indexed + ` UNION ALL ` + tail + orderLimit(q.Desc), append(append(args, args...), limitArg(q.Limit))
}

// eventIndex returns the index that drives q, "" for the table's own seq
// order. Without statistics SQLite guesses that a time range is more
// selective than any equality and would read (account, time) and sort even
// when a resource or request id names a handful of events; and its choice
// would change with the data once statistics exist. The audit log grows
// without bound, so the plan is chosen here, once, and pinned by a test:
//
//   - a request id: its index, a point look-up;
//   - no account (verification, export): the seq order, from AfterSeq;
//   - a resource, an access key or one action: (account, that, seq),
//     walked in seq order, the window checked on each event;
//   - else a window: (account, time), the window's events sorted by seq,
//     so a page costs the window's size, never the account's history;
//   - else (account, seq), walked in seq order.
func eventIndex(q store.EventQuery) string {
	switch {
	case q.RequestID != "":
		return "audit_events_request"
	case q.Account == "":
		return ""
	case q.Resource != "":
		return "audit_events_resource"
	case q.AccessKeyID != "":
		return "audit_events_access_key"
	case len(q.Action) == 1:
		return "audit_events_action"
	case !q.From.IsZero() || !q.To.IsZero():
		return "audit_events_account_time"
	}
	return "audit_events_account"
}

// eventSelect returns the SELECT of conds through index ("": the table's
// seq order, NOT INDEXED), ordered and limited when order is set.
func eventSelect(index string, conds []string, desc, order bool) string {
	query := `SELECT ` + eventCols + ` FROM audit_events`
	if index != "" {
		query += ` INDEXED BY ` + index
	} else {
		query += ` NOT INDEXED`
	}
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	if order {
		query += orderLimit(desc)
	}
	return query
}

func orderLimit(desc bool) string {
	if desc {
		return ` ORDER BY seq DESC LIMIT ?`
	}
	return ` ORDER BY seq LIMIT ?`
}

// limitArg returns limit as SQLite's LIMIT takes it: -1 for none.
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// DeleteEventsThrough removes every event with Seq <= seq and returns how
// many it removed. It leaves the head and the checkpoints alone. Failures
// are fault errors.
func (t *tx) DeleteEventsThrough(ctx context.Context, seq int64) (int, error) {
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= ?`, seq))
	if err != nil {
		return 0, dbError("sqlite.DeleteEventsThrough", err, "audit event")
	}
	return int(n), nil
}

const checkpointCols = `seq, head, time, key_id, signature`

func scanCheckpoint(row scanner) (*store.Checkpoint, error) {
	c := &store.Checkpoint{}
	if err := row.Scan(&c.Seq, &c.Head, timeCol{&c.Time}, &c.KeyID, &c.Signature); err != nil {
		return nil, err
	}
	return c, nil
}

// InsertCheckpoint stores c; Exists when its Seq is taken. Other failures
// are fault errors.
func (t *tx) InsertCheckpoint(ctx context.Context, c *store.Checkpoint) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (`+checkpointCols+`)
		VALUES (?, ?, ?, ?, ?)`, c.Seq, blob(c.Head), millis(c.Time), c.KeyID, blob(c.Signature))
	return dbError("sqlite.InsertCheckpoint", err, "checkpoint")
}

// Checkpoints returns up to limit (all when limit <= 0) checkpoints with
// Seq >= fromSeq, oldest first. Failures are fault errors.
func (t *tx) Checkpoints(ctx context.Context, fromSeq int64, limit int) ([]*store.Checkpoint, error) {
	const op = "sqlite.Checkpoints"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE seq >= ? ORDER BY seq LIMIT ?`, fromSeq, limitArg(limit))
	if err != nil {
		return nil, dbError(op, err, "checkpoint")
	}
	defer rows.Close()
	var out []*store.Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, dbError(op, err, "checkpoint")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "checkpoint")
	}
	return out, nil
}

// LatestCheckpoint returns the checkpoint with the highest Seq; NotFound
// when there is none. Other failures are fault errors.
func (t *tx) LatestCheckpoint(ctx context.Context) (*store.Checkpoint, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoints
		ORDER BY seq DESC LIMIT 1`)
	c, err := scanCheckpoint(row)
	if err != nil {
		return nil, dbError("sqlite.LatestCheckpoint", err, "checkpoint")
	}
	return c, nil
}
