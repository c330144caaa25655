package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Snapshotter is an optional capability of a Store: copying every record out
// of a database, and into an empty one, in a neutral form that every backend
// reads and writes alike, so a copy taken from SQLite loads into PostgreSQL
// and back (internal/snapshot turns it into a file). Detect it with a type
// assertion.
type Snapshotter interface {
	// Dump reads every table of SnapshotTables inside one read transaction,
	// so what it passes on is one consistent state while writers go on.
	// It calls counts once, first, with the number of rows of each table
	// (by table name), then row for every row: table by table in
	// SnapshotTables order, by primary key within a table. Row values are
	// only valid during the call. Dump returns a callback's error as is;
	// a fault.Internal error when the database's tables do not match
	// SnapshotTables; otherwise the store's fault error.
	Dump(ctx context.Context, counts func(map[string]int64) error, row func(Row) error) error
	// Load inserts the rows next returns, until it returns io.EOF, in one
	// write transaction: nothing is kept unless every row loads and next
	// ends with io.EOF. Rows must come table by table in SnapshotTables
	// order (Dump's order), so every row's parent is there before it; a
	// column a row lacks takes its Column.Default. Load returns next's error as
	// is; fault.WrongState when the database holds any record already
	// (Load fills new databases only); fault.Invalid when a row does not fit
	// SnapshotTables (CheckRow); otherwise the store's fault error.
	Load(ctx context.Context, next func() (Row, error)) error
}

// SnapshotSchema is the version of the neutral table set, SnapshotTables.
// It goes up, and SnapshotTables changes with it, whenever a migration of
// either backend adds, drops or changes a table or column; each backend
// checks its tables against SnapshotTables before it dumps or loads, so
// the two cannot drift apart unnoticed. A reader refuses rows of a newer
// version and loads an older version's rows by column name, so a column
// added since takes its default.
//
// Version 2 added rotation_runs and databases (and the rotation_run_id
// counter); a version 1 snapshot loads with both tables empty. Version 3
// added secrets.replicas and secrets.primary_region; an older snapshot's
// secrets load as neither primaries nor replicas.
const SnapshotSchema = 3

// ColumnType is the neutral type of a column, and the Go type of its
// values in a Row (nil stands for NULL in any column).
type ColumnType uint8

// The column types. Times are ColInt unix milliseconds, as both backends
// store them; flags are ColBool, which SQLite keeps as 0 or 1.
const (
	ColText ColumnType = iota + 1 // string
	ColInt                        // int64
	ColBool                       // bool
	ColBlob                       // []byte
)

// String names the type as a snapshot header spells it.
func (t ColumnType) String() string {
	switch t {
	case ColText:
		return "text"
	case ColInt:
		return "int"
	case ColBool:
		return "bool"
	case ColBlob:
		return "blob"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Column is one column of a snapshot table.
type Column struct {
	Name string
	Type ColumnType
	// Default is the value of the column in a row that lacks it: a row
	// of an older SnapshotSchema, from before a migration added the
	// column. nil (NULL) for a column every schema has.
	Default any
}

// Table is one table of the neutral format: SQLite's table and column
// names, which PostgreSQL's schema shares (its generated columns are left
// out: they derive from the others).
type Table struct {
	Name    string
	Columns []Column
	// Key is the primary key: the order Dump reads the rows in.
	Key []string
	// Seeded marks a table the migrations fill (counters, whose values
	// only grow): Load merges into it, keeping the larger value of a
	// counter both sides hold, and an empty database may hold its rows.
	Seeded bool
}

// ColumnNames returns the names of t's columns, in order.
func (t Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Column returns the column called name, and false when t has none.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Row is one record of a snapshot table in neutral types: Values[i] is the
// value of column Columns[i], nil or the Go type of its ColumnType.
type Row struct {
	Table   string
	Columns []string
	Values  []any
}

// Shorthands for SnapshotTables.
func textCol(name string) Column { return Column{Name: name, Type: ColText} }
func intCol(name string) Column  { return Column{Name: name, Type: ColInt} }
func boolCol(name string) Column { return Column{Name: name, Type: ColBool} }
func blobCol(name string) Column { return Column{Name: name, Type: ColBlob} }

// addedCol is c with the default the migration that added it gave.
func addedCol(c Column, def any) Column {
	c.Default = def
	return c
}

func snapCols(cs ...Column) []Column   { return cs }
func snapKey(names ...string) []string { return names }

// SnapshotTables is every table that holds data, in dependency order: a
// table's foreign keys point only at tables before it. schema_migrations is
// not data: the target's own migrations fill it.
var SnapshotTables = []Table{
	{Name: "accounts", Columns: snapCols(textCol("id"), textCol("name"), intCol("created_at")), Key: snapKey("id")},
	{Name: "access_keys", Columns: snapCols(textCol("id"), textCol("account"), textCol("principal"), blobCol("sealed"),
		textCol("status"), intCol("created_at"), intCol("last_used_at"), addedCol(textCol("description"), "")), Key: snapKey("id")},
	{Name: "keys", Columns: snapCols(textCol("id"), textCol("account"), textCol("region"), textCol("alias"), textCol("description"),
		textCol("state"), boolCol("is_default"), intCol("delete_at"), intCol("created_at"), intCol("revision"),
		addedCol(boolCol("rotation_enabled"), false), addedCol(intCol("rotation_days"), int64(0)), intCol("rotation_next"),
		intCol("rotation_last")), Key: snapKey("id")},
	{Name: "key_material", Columns: snapCols(textCol("key_id"), intCol("version"), blobCol("wrapped"), intCol("created_at")),
		Key: snapKey("key_id", "version")},
	{Name: "secrets", Columns: snapCols(textCol("id"), textCol("account"), textCol("region"), textCol("name"), textCol("description"),
		intCol("type"), textCol("key_id"), textCol("status"), intCol("delete_at"), intCol("created_at"), intCol("updated_at"),
		intCol("accessed_at"), textCol("created_by"), textCol("config"), textCol("product"), textCol("resource_id"),
		boolCol("rotation_enabled"), intCol("rotation_days"), intCol("rotation_begin"), intCol("rotation_next"),
		intCol("rotation_last"), textCol("rotator"), intCol("revision"), addedCol(textCol("policy"), ""),
		addedCol(boolCol("tagged"), false), addedCol(textCol("replicas"), ""), addedCol(textCol("primary_region"), "")),
		Key: snapKey("id")},
	{Name: "secret_tags", Columns: snapCols(textCol("secret_id"), intCol("position"), textCol("key"), textCol("value")),
		Key: snapKey("secret_id", "position")},
	{Name: "versions", Columns: snapCols(textCol("secret_id"), textCol("version_id"), intCol("seq"), boolCol("is_binary"),
		blobCol("ciphertext"), blobCol("wrapped_key"), textCol("key_id"), intCol("key_version"), textCol("token"), intCol("created_at")),
		Key: snapKey("secret_id", "version_id")},
	{Name: "version_stages", Columns: snapCols(textCol("secret_id"), textCol("stage"), textCol("version_id")),
		Key: snapKey("secret_id", "stage")},
	{Name: "counters", Columns: snapCols(textCol("name"), intCol("value")), Key: snapKey("name"), Seeded: true},
	{Name: "meta", Columns: snapCols(textCol("key"), textCol("value")), Key: snapKey("key")},
	{Name: "iam_entities", Columns: snapCols(textCol("account"), textCol("kind"), textCol("id"), textCol("name"), textCol("attrs"),
		intCol("created_at"), intCol("updated_at"), intCol("revision")), Key: snapKey("account", "kind", "id")},
	{Name: "iam_policies", Columns: snapCols(textCol("account"), textCol("id"), textCol("name"), textCol("description"),
		intCol("default_version"), intCol("next_version"), intCol("created_at"), intCol("updated_at"), intCol("revision")),
		Key: snapKey("account", "id")},
	{Name: "iam_policy_tags", Columns: snapCols(textCol("account"), textCol("policy_id"), intCol("position"), textCol("key"),
		textCol("value")), Key: snapKey("account", "policy_id", "position")},
	{Name: "iam_policy_versions", Columns: snapCols(textCol("policy_id"), intCol("version"), textCol("document"),
		intCol("created_at")), Key: snapKey("policy_id", "version")},
	{Name: "iam_attachments", Columns: snapCols(textCol("account"), textCol("policy_id"), textCol("kind"), textCol("entity_id"),
		intCol("attached_at")), Key: snapKey("account", "policy_id", "kind", "entity_id")},
	{Name: "iam_memberships", Columns: snapCols(textCol("account"), textCol("group_id"), textCol("user_id"), intCol("added_at")),
		Key: snapKey("account", "group_id", "user_id")},
	{Name: "audit_events", Columns: snapCols(intCol("seq"), intCol("time"), textCol("account"), textCol("principal_id"),
		textCol("principal_name"), textCol("principal_kind"), textCol("session"), textCol("access_key_id"), textCol("source_ip"),
		textCol("user_agent"), textCol("region"), textCol("family"), textCol("action"), boolCol("read_only"), textCol("resource"),
		textCol("version_id"), textCol("request_id"), textCol("error_code"), textCol("params"), blobCol("prev_hash"), blobCol("hash")),
		Key: snapKey("seq")},
	{Name: "audit_head", Columns: snapCols(intCol("id"), intCol("seq"), blobCol("hash")), Key: snapKey("id")},
	{Name: "audit_checkpoints", Columns: snapCols(intCol("seq"), blobCol("head"), intCol("time"), textCol("key_id"),
		blobCol("signature")), Key: snapKey("seq")},
	{Name: "usage_calls", Columns: snapCols(intCol("hour"), textCol("account"), textCol("region"), textCol("family"),
		textCol("action"), textCol("result"), intCol("calls")), Key: snapKey("hour", "account", "region", "family", "action", "result")},
	{Name: "usage_secret_hours", Columns: snapCols(intCol("hour"), textCol("account"), textCol("region"), intCol("secrets")),
		Key: snapKey("hour", "account", "region")},
	{Name: "rotation_runs", Columns: snapCols(intCol("id"), textCol("account"), textCol("region"), textCol("secret_id"),
		textCol("secret_name"), textCol("kind"), textCol("rotator"), textCol("version_id"), textCol("step"), textCol("state"),
		intCol("attempts"), textCol("error"), textCol("detail"), intCol("next_at"), intCol("started_at"), intCol("updated_at"),
		intCol("ended_at")), Key: snapKey("id")},
	{Name: "databases", Columns: snapCols(textCol("account"), textCol("region"), textCol("id"), textCol("engine"),
		textCol("host"), intCol("port"), textCol("admin_secret"), textCol("options"), textCol("description"),
		intCol("created_at")), Key: snapKey("account", "region", "id")},
}

// SnapshotTable returns the table called name and its position in
// SnapshotTables; false when there is none.
func SnapshotTable(name string) (Table, int, bool) {
	i := slices.IndexFunc(SnapshotTables, func(t Table) bool { return t.Name == name })
	if i < 0 {
		return Table{}, -1, false
	}
	return SnapshotTables[i], i, true
}

// SchemaDiffs lists how a database's tables (table name → column name →
// the database's type name) differ from SnapshotTables, sorted; typeOK
// says whether a type name holds a column type. A backend refuses to dump
// or load while there is any difference: a migration changed its schema
// and not SnapshotTables (and SnapshotSchema).
func SchemaDiffs(have map[string]map[string]string, typeOK func(ColumnType, string) bool) []string {
	var diffs []string
	for _, table := range SnapshotTables {
		cols, ok := have[table.Name]
		if !ok {
			diffs = append(diffs, "table "+table.Name+" is missing")
			continue
		}
		for _, c := range table.Columns {
			if typ, ok := cols[c.Name]; !ok || !typeOK(c.Type, typ) {
				diffs = append(diffs, fmt.Sprintf("column %s.%s is missing or not of a %s type", table.Name, c.Name, c.Type))
			}
		}
		for name := range cols {
			if _, ok := table.Column(name); !ok {
				diffs = append(diffs, fmt.Sprintf("column %s.%s is not in the snapshot format", table.Name, name))
			}
		}
	}
	for name := range have {
		if _, _, ok := SnapshotTable(name); !ok {
			diffs = append(diffs, "table "+name+" is not in the snapshot format")
		}
	}
	slices.Sort(diffs)
	return diffs
}

// RowCheck validates the rows a Load receives, in order, and completes
// them. The zero value is ready to use.
type RowCheck struct {
	pos int // the position in SnapshotTables of the last row's table
}

// Check returns the table of r and r with every column of the table, in
// the table's order: a column r lacks takes its Default. It returns a
// fault.Invalid error when r names a table or column SnapshotTables lacks,
// names a column twice, holds a value of the wrong type, or comes after a
// row of a later table.
func (c *RowCheck) Check(r Row) (Table, Row, error) {
	const op = "store.Load"
	t, pos, ok := SnapshotTable(r.Table)
	switch {
	case !ok:
		return t, r, fault.E(op, fault.Invalid, fmt.Sprintf("unknown table %q", r.Table))
	case pos < c.pos:
		return t, r, fault.E(op, fault.Invalid, fmt.Sprintf("table %s comes after %s: rows must come in dependency order",
			r.Table, SnapshotTables[c.pos].Name))
	case len(r.Columns) != len(r.Values):
		return t, r, fault.E(op, fault.Invalid, fmt.Sprintf("table %s: %d columns but %d values", r.Table, len(r.Columns), len(r.Values)))
	}
	c.pos = pos
	for i, name := range r.Columns {
		col, ok := t.Column(name)
		if !ok || slices.Index(r.Columns, name) != i {
			return t, r, fault.E(op, fault.Invalid, fmt.Sprintf("table %s: unknown or repeated column %q", r.Table, name))
		}
		if !fitsColumn(col.Type, r.Values[i]) {
			return t, r, fault.E(op, fault.Invalid, fmt.Sprintf("column %s.%s holds a %T, want %s", r.Table, name, r.Values[i], col.Type))
		}
	}
	return t, completeRow(t, r), nil
}

// completeRow returns r with every column of t, in t's order.
func completeRow(t Table, r Row) Row {
	if slices.EqualFunc(t.Columns, r.Columns, func(c Column, name string) bool { return c.Name == name }) {
		return r
	}
	values := make([]any, len(t.Columns))
	for i, col := range t.Columns {
		values[i] = col.Default
		if j := slices.Index(r.Columns, col.Name); j >= 0 {
			values[i] = r.Values[j]
		}
	}
	return Row{Table: t.Name, Columns: t.ColumnNames(), Values: values}
}

// fitsColumn reports whether v is a value of a column of type t.
func fitsColumn(t ColumnType, v any) bool {
	switch v.(type) {
	case nil:
		return true
	case string:
		return t == ColText
	case int64:
		return t == ColInt
	case bool:
		return t == ColBool
	case []byte:
		return t == ColBlob
	}
	return false
}
