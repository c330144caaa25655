package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

var _ store.Snapshotter = (*DB)(nil)

// Dump implements store.Snapshotter. It reads inside one View transaction,
// REPEATABLE READ READ ONLY: one snapshot of the database, taking no lock,
// while writers go on. Text keys sort COLLATE "C", byte by byte, as SQLite
// sorts them, so both backends dump the same rows in the same order.
func (db *DB) Dump(ctx context.Context, counts func(map[string]int64) error, row func(store.Row) error) error {
	const op = "postgres.Dump"
	return db.View(ctx, func(stx store.Tx) error {
		conn := stx.(*tx).conn
		if err := checkTables(ctx, conn, op); err != nil {
			return err
		}
		n, err := countRows(ctx, conn)
		if err != nil {
			return err
		}
		if err := counts(n); err != nil {
			return err
		}
		for _, table := range store.SnapshotTables {
			if err := dumpTable(ctx, conn, table, row); err != nil {
				return err
			}
		}
		return nil
	})
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

func countRows(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
	n := make(map[string]int64, len(store.SnapshotTables))
	for _, table := range store.SnapshotTables {
		var c int64
		err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table.Name}.Sanitize()).Scan(&c)
		if err != nil {
			return nil, dbError("postgres.Dump", err, "")
		}
		n[table.Name] = c
	}
	return n, nil
}

// orderBy is the ORDER BY list of table's key, text columns COLLATE "C".
func orderBy(table store.Table) string {
	q := make([]string, len(table.Key))
	for i, k := range table.Key {
		q[i] = pgx.Identifier{k}.Sanitize()
		if c, _ := table.Column(k); c.Type == store.ColText {
			q[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(q, ", ")
}

// callbackError carries a Dump callback's error out of the row loop, so it
// is returned as is rather than mapped as a store failure.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func dumpTable(ctx context.Context, conn *pgx.Conn, table store.Table, fn func(store.Row) error) error {
	names := table.ColumnNames()
	rows, err := conn.Query(ctx, `SELECT `+quoteAll(names)+` FROM `+pgx.Identifier{table.Name}.Sanitize()+
		` ORDER BY `+orderBy(table))
	if err != nil {
		return dbError("postgres.Dump", err, "")
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
		return dbError("postgres.Dump", err, "")
	}
	return nil
}

func scanRows(rows pgx.Rows, table store.Table, fn func([]any) error) error {
	for rows.Next() {
		raw, err := rows.Values()
		if err != nil {
			return err
		}
		for i, c := range table.Columns {
			if raw[i], err = neutral(c.Type, raw[i]); err != nil {
				return fmt.Errorf("column %s.%s: %w", table.Name, c.Name, err)
			}
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return rows.Err()
}

// neutral converts what pgx decodes for a column of type t into the
// neutral type: INTEGER columns decode as int32.
func neutral(t store.ColumnType, v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if t == store.ColText {
			return v, nil
		}
	case int32:
		if t == store.ColInt {
			return int64(v), nil
		}
	case int64:
		if t == store.ColInt {
			return v, nil
		}
	case bool:
		if t == store.ColBool {
			return v, nil
		}
	case []byte:
		if t == store.ColBlob {
			return blob(bytes.Clone(v)), nil
		}
	}
	return nil, fmt.Errorf("holds a %T, want %s", v, t)
}

// checkTables compares the tables of the current schema with
// store.SnapshotTables: a migration that changed one without the other
// would lose data in a snapshot, so neither Dump nor Load runs then.
// Generated columns are left out; they derive from the others.
func checkTables(ctx context.Context, conn *pgx.Conn, op string) error {
	rows, err := conn.Query(ctx, `SELECT c.table_name::text, c.column_name::text, c.data_type::text
		FROM information_schema.columns AS c
		JOIN information_schema.tables AS t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			AND c.is_generated = 'NEVER' AND c.table_name <> 'schema_migrations'`)
	if err != nil {
		return dbError(op, err, "")
	}
	have := map[string]map[string]string{}
	var table, column, typ string
	_, err = pgx.ForEachRow(rows, []any{&table, &column, &typ}, func() error {
		if have[table] == nil {
			have[table] = map[string]string{}
		}
		have[table][column] = typ
		return nil
	})
	if err != nil {
		return dbError(op, err, "")
	}
	if diffs := store.SchemaDiffs(have, holdsType); len(diffs) > 0 {
		return fault.E(op, fault.Internal, fmt.Sprintf("the database's tables do not match snapshot schema %d: %s",
			store.SnapshotSchema, strings.Join(diffs, "; ")))
	}
	return nil
}

// snapshotTypes lists the PostgreSQL types each neutral type may have.
var snapshotTypes = map[store.ColumnType][]string{
	store.ColText: {"text"}, store.ColInt: {"integer", "bigint"}, store.ColBool: {"boolean"}, store.ColBlob: {"bytea"},
}

// holdsType reports whether PostgreSQL columns of data type typ hold type t.
func holdsType(t store.ColumnType, typ string) bool {
	return slices.Contains(snapshotTypes[t], typ)
}

// Load implements store.Snapshotter. It runs in one Update, holding the
// write lock of every server on the database until the last row is in, and
// copies each table with COPY.
func (db *DB) Load(ctx context.Context, next func() (store.Row, error)) error {
	const op = "postgres.Load"
	return db.Update(ctx, func(stx store.Tx) error {
		conn := stx.(*tx).conn
		if err := checkTables(ctx, conn, op); err != nil {
			return err
		}
		if err := checkEmpty(ctx, conn); err != nil {
			return err
		}
		src := &rowSource{next: next}
		for {
			r, err := src.peek()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := loadTable(ctx, conn, src, r); err != nil {
				return err
			}
		}
	})
}

// checkEmpty refuses a database that holds any record: a restore replaces
// nothing and merges nothing.
func checkEmpty(ctx context.Context, conn *pgx.Conn) error {
	for _, table := range store.SnapshotTables {
		if table.Seeded {
			continue
		}
		var found bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{table.Name}.Sanitize()+`)`).Scan(&found)
		if err != nil {
			return dbError("postgres.Load", err, "")
		}
		if found {
			return fault.E("postgres.Load", fault.WrongState, fmt.Sprintf(
				"the database is not empty (table %s holds records): load into a new database", table.Name))
		}
	}
	return nil
}

// loadTable loads the run of rows of one table that starts with first.
func loadTable(ctx context.Context, conn *pgx.Conn, src *rowSource, first store.Row) error {
	table, _, _ := store.SnapshotTable(first.Table) // the source checked it
	if table.Seeded {
		return mergeRow(ctx, conn, src, table)
	}
	run := &tableRun{src: src, table: first.Table}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{first.Table}, first.Columns, run)
	if src.err != nil && !errors.Is(src.err, io.EOF) {
		return src.err // the source's own failure, which aborted the copy
	}
	if err != nil {
		return loadError(first.Table, err)
	}
	return nil
}

// mergeRow loads one row of a seeded table, keeping the larger values.
func mergeRow(ctx context.Context, conn *pgx.Conn, src *rowSource, table store.Table) error {
	r, err := src.take()
	if err != nil {
		return err
	}
	name := pgx.Identifier{table.Name}.Sanitize()
	var set []string
	for _, c := range r.Columns {
		if !slices.Contains(table.Key, c) {
			q := pgx.Identifier{c}.Sanitize()
			set = append(set, fmt.Sprintf("%s = GREATEST(%s.%s, excluded.%s)", q, name, q, q))
		}
	}
	marks := make([]string, len(r.Columns))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	q := `INSERT INTO ` + name + ` (` + quoteAll(r.Columns) + `) VALUES (` + strings.Join(marks, ", ") + `) ON CONFLICT `
	if len(set) == 0 {
		q += `DO NOTHING`
	} else {
		q += `(` + quoteAll(table.Key) + `) DO UPDATE SET ` + strings.Join(set, ", ")
	}
	if _, err := conn.Exec(ctx, q, bound(r.Values)...); err != nil {
		return loadError(table.Name, err)
	}
	return nil
}

// bound converts neutral values to what pgx sends: a nil []byte would be
// NULL.
func bound(values []any) []any {
	out := make([]any, len(values))
	for i, v := range values {
		if b, ok := v.([]byte); ok {
			v = blob(b)
		}
		out[i] = v
	}
	return out
}

func loadError(table string, err error) error {
	mapped := dbError("postgres.Load", err, "")
	return fault.Wrap("postgres.Load", fault.KindOf(mapped), "cannot load a row of table "+table, err)
}

// rowSource reads Load's rows with one row of look-ahead, checking and
// completing each (store.RowCheck), so every row of a table has every
// column, in order.
type rowSource struct {
	next   func() (store.Row, error)
	check  store.RowCheck
	row    store.Row
	peeked bool
	err    error // the first error of next or of a check; io.EOF at the end
}

// peek returns the next row without taking it.
func (s *rowSource) peek() (store.Row, error) {
	if s.err != nil || s.peeked {
		return s.row, s.err
	}
	r, err := s.next()
	if err == nil {
		_, r, err = s.check.Check(r)
	}
	if err != nil {
		s.err = err
		return store.Row{}, err
	}
	s.row, s.peeked = r, true
	return r, nil
}

// take returns the next row and moves past it.
func (s *rowSource) take() (store.Row, error) {
	r, err := s.peek()
	s.peeked = false
	return r, err
}

// tableRun is a pgx.CopyFromSource over the rows of one table at the head
// of a rowSource.
type tableRun struct {
	src    *rowSource
	table  string
	values []any
}

func (t *tableRun) Next() bool {
	r, err := t.src.peek()
	if err != nil || r.Table != t.table {
		return false
	}
	t.src.take()
	t.values = bound(r.Values)
	return true
}

func (t *tableRun) Values() ([]any, error) { return t.values, nil }

// Err returns the source's failure, which aborts the copy; not its end.
func (t *tableRun) Err() error {
	if errors.Is(t.src.err, io.EOF) {
		return nil
	}
	return t.src.err
}
