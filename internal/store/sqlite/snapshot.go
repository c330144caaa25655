package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

var _ store.Snapshotter = (*DB)(nil)

// Dump implements store.Snapshotter. It reads inside one View transaction:
// SQLite's snapshot isolation under WAL gives it one state of the database
// while the writer goes on, and the WAL grows meanwhile.
func (db *DB) Dump(ctx context.Context, counts func(map[string]int64) error, row func(store.Row) error) error {
	return db.View(ctx, func(stx store.Tx) error {
		t := stx.(*tx).tx.Tx
		if err := checkTables(ctx, t, "sqlite.Dump"); err != nil {
			return err
		}
		n, err := countRows(ctx, t)
		if err != nil {
			return err
		}
		if err := counts(n); err != nil {
			return err
		}
		for _, table := range store.SnapshotTables {
			if err := dumpTable(ctx, t, table, row); err != nil {
				return err
			}
		}
		return nil
	})
}

// quote quotes an identifier; the names come from store.SnapshotTables,
// some of them keywords (key, value).
func quote(name string) string { return `"` + name + `"` }

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

func countRows(ctx context.Context, t *sql.Tx) (map[string]int64, error) {
	n := make(map[string]int64, len(store.SnapshotTables))
	for _, table := range store.SnapshotTables {
		var c int64
		err := t.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(table.Name)).Scan(&c)
		if err != nil {
			return nil, dbError("sqlite.Dump", err, "")
		}
		n[table.Name] = c
	}
	return n, nil
}

// callbackError carries a Dump callback's error out of the row loop, so it
// is returned as is rather than mapped as a store failure.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func dumpTable(ctx context.Context, t *sql.Tx, table store.Table, fn func(store.Row) error) error {
	names := table.ColumnNames()
	rows, err := t.QueryContext(ctx, `SELECT `+quoteAll(names)+` FROM `+quote(table.Name)+
		` ORDER BY `+quoteAll(table.Key))
	if err != nil {
		return dbError("sqlite.Dump", err, "")
	}
	defer rows.Close()
	err = scanRows(rows, table, func(values []any) error {
		if err := fn(store.Row{Table: table.Name, Columns: names, Values: values}); err != nil {
			return callbackError{err}
		}
		return nil
	})
	if ce, ok := errors.AsType[callbackError](err); ok {
		return ce.err
	}
	if err != nil {
		return dbError("sqlite.Dump", err, "")
	}
	return nil
}

func scanRows(rows *sql.Rows, table store.Table, fn func([]any) error) error {
	raw := make([]any, len(table.Columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		values := make([]any, len(raw))
		for i, c := range table.Columns {
			v, err := neutral(c.Type, raw[i])
			if err != nil {
				return fmt.Errorf("column %s.%s: %w", table.Name, c.Name, err)
			}
			values[i] = v
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return rows.Err()
}

// neutral converts what the driver returns for a column of type t into the
// neutral type: SQLite keeps flags as integers.
func neutral(t store.ColumnType, v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if t == store.ColText {
			return v, nil
		}
	case int64:
		switch t {
		case store.ColInt:
			return v, nil
		case store.ColBool:
			return v != 0, nil
		}
	case []byte:
		if t == store.ColBlob {
			return blob(v), nil
		}
	}
	return nil, fmt.Errorf("holds a %T, want %s", v, t)
}

// checkTables compares the database's tables with store.SnapshotTables: a
// migration that changed one without the other would lose data in a
// snapshot, so neither Dump nor Load runs then. What is derived is not
// compared: the search index (a virtual table, its shadow tables and its
// content table secret_names), which triggers fill from secrets, and the
// audit look-up indexes' state (audit_events.indexed, audit_index_mark).
func checkTables(ctx context.Context, t *sql.Tx, op string) error {
	rows, err := t.QueryContext(ctx, `SELECT m.name, p.name, p.type
		FROM pragma_table_list AS m, pragma_table_info(m.name) AS p
		WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite%'
			AND m.name NOT IN ('schema_migrations', 'secret_names', 'audit_index_mark')
			AND NOT (m.name = 'audit_events' AND p.name = 'indexed')
		ORDER BY m.name, p.cid`)
	if err != nil {
		return dbError(op, err, "")
	}
	defer rows.Close()
	have := map[string]map[string]string{}
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			return dbError(op, err, "")
		}
		if have[table] == nil {
			have[table] = map[string]string{}
		}
		have[table][column] = typ
	}
	if err := rows.Err(); err != nil {
		return dbError(op, err, "")
	}
	if diffs := store.SchemaDiffs(have, holdsType); len(diffs) > 0 {
		return fault.E(op, fault.Internal, fmt.Sprintf("the database's tables do not match snapshot schema %d: %s",
			store.SnapshotSchema, strings.Join(diffs, "; ")))
	}
	return nil
}

// snapshotTypes is the SQLite type of each neutral type.
var snapshotTypes = map[store.ColumnType]string{
	store.ColText: "TEXT", store.ColInt: "INTEGER", store.ColBool: "INTEGER", store.ColBlob: "BLOB",
}

// holdsType reports whether SQLite columns declared typ hold type t.
func holdsType(t store.ColumnType, typ string) bool {
	return strings.EqualFold(typ, snapshotTypes[t])
}

// Load implements store.Snapshotter. It runs in one Update: the writer is
// held until every row is in, which suits the new database it fills.
func (db *DB) Load(ctx context.Context, next func() (store.Row, error)) error {
	const op = "sqlite.Load"
	return db.Update(ctx, func(stx store.Tx) error {
		t := stx.(*tx).tx.Tx
		if err := checkTables(ctx, t, op); err != nil {
			return err
		}
		if err := checkEmpty(ctx, t); err != nil {
			return err
		}
		l := &loader{tx: t, stmts: map[string]*sql.Stmt{}}
		defer l.close()
		var check store.RowCheck
		for {
			r, err := next()
			if errors.Is(err, io.EOF) {
				return markIndexed(ctx, t)
			}
			if err != nil {
				return err
			}
			table, r, err := check.Check(r)
			if err != nil {
				return err
			}
			if err := l.insert(ctx, table, r.Values); err != nil {
				return err
			}
		}
	})
}

// markIndexed moves the audit index mark past the loaded events, which
// the loader's inserts indexed (the indexed column's default), so that
// look-ups need not scan them as events the indexer has not reached.
func markIndexed(ctx context.Context, t *sql.Tx) error {
	_, err := t.ExecContext(ctx, `UPDATE audit_index_mark
		SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM audit_events)) WHERE id = 1`)
	return dbError("sqlite.Load", err, "")
}

// checkEmpty refuses a database that holds any record: a restore replaces
// nothing and merges nothing.
func checkEmpty(ctx context.Context, t *sql.Tx) error {
	for _, table := range store.SnapshotTables {
		if table.Seeded {
			continue
		}
		var found bool
		err := t.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quote(table.Name)+`)`).Scan(&found)
		if err != nil {
			return dbError("sqlite.Load", err, "")
		}
		if found {
			return fault.E("sqlite.Load", fault.WrongState, fmt.Sprintf(
				"the database is not empty (table %s holds records): load into a new database", table.Name))
		}
	}
	return nil
}

// loader inserts rows with one prepared statement per table.
type loader struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (l *loader) close() {
	for _, s := range l.stmts {
		s.Close()
	}
}

// insert inserts one row: a value for each column of table, in order.
func (l *loader) insert(ctx context.Context, table store.Table, values []any) error {
	stmt, ok := l.stmts[table.Name]
	if !ok {
		var err error
		if stmt, err = l.tx.PrepareContext(ctx, insertSQL(table)); err != nil {
			return loadError(table.Name, err)
		}
		l.stmts[table.Name] = stmt
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = bound(v)
	}
	if _, err := stmt.ExecContext(ctx, args...); err != nil {
		return loadError(table.Name, err)
	}
	return nil
}

// insertSQL is the INSERT of a row of table. A seeded table's rows merge
// with the migrations' own, keeping the larger values.
func insertSQL(table store.Table) string {
	columns := table.ColumnNames()
	q := `INSERT INTO ` + quote(table.Name) + ` (` + quoteAll(columns) + `) VALUES (` + placeholders(len(columns)) + `)`
	if !table.Seeded {
		return q
	}
	var set []string
	for _, c := range columns {
		if !slices.Contains(table.Key, c) {
			set = append(set, fmt.Sprintf("%s = max(%s, excluded.%s)", quote(c), quote(c), quote(c)))
		}
	}
	if len(set) == 0 {
		return q + ` ON CONFLICT DO NOTHING`
	}
	return q + ` ON CONFLICT (` + quoteAll(table.Key) + `) DO UPDATE SET ` + strings.Join(set, ", ")
}

// bound converts a neutral value to what SQLite stores.
func bound(v any) any {
	switch v := v.(type) {
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	case []byte:
		return blob(v)
	}
	return v
}

func loadError(table string, err error) error {
	mapped := dbError("sqlite.Load", err, "")
	return fault.Wrap("sqlite.Load", fault.KindOf(mapped), "cannot load a row of table "+table, err)
}
