package dbtarget

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Privilege levels, spelled as Tencent Cloud SSM spells them.
const (
	LevelGlobal   = "GlobalPrivileges"   // MySQL: ON *.*
	LevelDatabase = "DatabasePrivileges" // MySQL: ON `db`.*; PostgreSQL: ON DATABASE
	LevelTable    = "TablePrivileges"    // ON a table
	LevelColumn   = "ColumnPrivileges"   // ON columns of a table
	LevelSchema   = "SchemaPrivileges"   // PostgreSQL only: ON SCHEMA
	LevelSequence = "SequencePrivileges" // PostgreSQL only: ON SEQUENCE
	LevelFunction = "FunctionPrivileges" // PostgreSQL only: ON ROUTINE (functions and procedures)
	LevelView     = "ViewPrivileges"     // PostgreSQL only: ON a view
)

// Privilege is one grant to a user: privileges at a level on an object.
// Which name fields a level needs:
//
//	level      MySQL                    PostgreSQL
//	Global     (none)                   refused: PostgreSQL has no global privileges
//	Database   Database                 Database
//	Table      Database, Table          Table; Schema (default "public")
//	Column     Database, Table, Column  Table, Column; Schema
//	Schema     refused                  Schema
//	Sequence   refused                  Object; Schema
//	Function   refused                  Object (a name without arguments, not overloaded); Schema
//	View       refused                  Object; Schema
//
// A name field a level does not use must be empty. On PostgreSQL, grants
// below the database level land in the admin session's database, so their
// Database must be empty or that database. MySQL database-level grants
// name one database: '_' and '%' in it are matched literally.
type Privilege struct {
	Level      string
	Privileges []string // e.g. "SELECT", "SHOW VIEW"; case-insensitive
	Database   string
	Schema     string
	Table      string
	Column     string
	Object     string
}

type field uint8

const (
	fDatabase field = 1 << iota
	fSchema
	fTable
	fColumn
	fObject
)

var fieldNames = []struct {
	f    field
	name string
}{{fDatabase, "Database"}, {fSchema, "Schema"}, {fTable, "Table"}, {fColumn, "Column"}, {fObject, "Object"}}

// levelSpec is what a level takes on one engine: its allowlist, the name
// fields it needs, and those it may have.
type levelSpec struct {
	privs      []string
	need, may  field
	refusedWhy string // set when the engine has no such level
}

var (
	myGlobal = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "PROCESS", "DROP",
		"REFERENCES", "INDEX", "ALTER", "SHOW DATABASES", "CREATE TEMPORARY TABLES", "LOCK TABLES",
		"EXECUTE", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "TRIGGER"}
	myDatabase = slices.DeleteFunc(slices.Clone(myGlobal), func(p string) bool {
		return p == "PROCESS" || p == "SHOW DATABASES"
	})
	myTable = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES",
		"INDEX", "ALTER", "CREATE VIEW", "SHOW VIEW", "TRIGGER"}
	columnPrivs = []string{"SELECT", "INSERT", "UPDATE", "REFERENCES"}
	pgTable     = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
	pgView      = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES", "TRIGGER"}
)

var specs = map[string]map[string]levelSpec{
	MySQL: {
		LevelGlobal:   {privs: myGlobal},
		LevelDatabase: {privs: myDatabase, need: fDatabase},
		LevelTable:    {privs: myTable, need: fDatabase | fTable},
		LevelColumn:   {privs: columnPrivs, need: fDatabase | fTable | fColumn},
		LevelSchema:   {refusedWhy: "MySQL has no schemas apart from databases: use " + LevelDatabase},
		LevelSequence: {refusedWhy: "MySQL has no sequence privileges"},
		LevelFunction: {refusedWhy: "routine privileges are not supported on MySQL: grant EXECUTE at " + LevelDatabase},
		LevelView:     {refusedWhy: "MySQL grants on views are table grants: use " + LevelTable},
	},
	Postgres: {
		LevelGlobal:   {refusedWhy: "PostgreSQL has no global privileges: grant on a database or schema"},
		LevelDatabase: {privs: []string{"CONNECT", "CREATE", "TEMPORARY"}, need: fDatabase},
		LevelSchema:   {privs: []string{"CREATE", "USAGE"}, need: fSchema, may: fDatabase},
		LevelTable:    {privs: pgTable, need: fTable, may: fDatabase | fSchema},
		LevelView:     {privs: pgView, need: fObject, may: fDatabase | fSchema},
		LevelColumn:   {privs: columnPrivs, need: fTable | fColumn, may: fDatabase | fSchema},
		LevelSequence: {privs: []string{"SELECT", "UPDATE", "USAGE"}, need: fObject, may: fDatabase | fSchema},
		LevelFunction: {privs: []string{"EXECUTE"}, need: fObject, may: fDatabase | fSchema},
	},
}

// ValidatePrivileges checks privs for engine: known levels, allowlisted
// privileges, and the name fields each level needs (see Privilege). It
// returns an ErrInvalid error naming the first fault.
func ValidatePrivileges(engine string, privs []Privilege) error {
	_, err := normalizePrivileges(engine, privs)
	return err
}

// normalizePrivileges validates privs and returns them with canonical
// privilege keywords (upper case, single spaces, no duplicates, TEMP
// spelled TEMPORARY) and PostgreSQL's default schema filled in. Only those
// keywords, never the caller's text, reach a statement.
func normalizePrivileges(engine string, privs []Privilege) ([]Privilege, error) {
	const op = "ValidatePrivileges"
	if err := checkEngine(op, engine); err != nil {
		return nil, err
	}
	out := make([]Privilege, 0, len(privs))
	for i, p := range privs {
		n, err := normalizePrivilege(engine, p)
		if err != nil {
			return nil, invalid(op, fmt.Sprintf("privilege %d (%s): %s", i, strconv.Quote(p.Level), err))
		}
		out = append(out, n)
	}
	return out, nil
}

func normalizePrivilege(engine string, p Privilege) (Privilege, error) {
	spec, ok := specs[engine][p.Level]
	switch {
	case !ok:
		return p, fmt.Errorf("unknown level; want one of %s", strings.Join(levels(engine), ", "))
	case spec.refusedWhy != "":
		return p, fmt.Errorf("%s", spec.refusedWhy)
	case len(p.Privileges) == 0:
		return p, fmt.Errorf("no privileges")
	}
	if err := checkFields(engine, p, spec); err != nil {
		return p, err
	}
	canon := make([]string, 0, len(p.Privileges))
	for _, raw := range p.Privileges {
		k := strings.Join(strings.Fields(strings.ToUpper(raw)), " ")
		if k == "TEMP" && engine == Postgres {
			k = "TEMPORARY"
		}
		if !slices.Contains(spec.privs, k) {
			return p, fmt.Errorf("privilege %s is not allowed at this level on %s; allowed: %s",
				strconv.QuoteToASCII(raw), engine, strings.Join(spec.privs, ", "))
		}
		if !slices.Contains(canon, k) {
			canon = append(canon, k)
		}
	}
	p.Privileges = canon
	if engine == Postgres && p.Schema == "" && spec.may&fSchema != 0 {
		p.Schema = "public"
	}
	return p, nil
}

func checkFields(engine string, p Privilege, spec levelSpec) error {
	values := map[field]string{fDatabase: p.Database, fSchema: p.Schema, fTable: p.Table, fColumn: p.Column, fObject: p.Object}
	for _, fn := range fieldNames {
		v := values[fn.f]
		switch {
		case spec.need&fn.f != 0 && v == "":
			return fmt.Errorf("%s is required", fn.name)
		case (spec.need|spec.may)&fn.f == 0 && v != "":
			return fmt.Errorf("%s must be empty at this level", fn.name)
		case v != "":
			if err := validateIdent(engine, strings.ToLower(fn.name), v); err != nil {
				return fmt.Errorf("%s", causeText(err))
			}
		}
	}
	return nil
}

// causeText is the message of a validation error without its prefix.
func causeText(err error) string {
	if e, ok := err.(*Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}

func levels(engine string) []string {
	var out []string
	for l, s := range specs[engine] {
		if s.refusedWhy == "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
