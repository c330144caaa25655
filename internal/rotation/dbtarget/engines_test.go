package dbtarget_test

import (
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

// TestPGCloneCopiesEveryKind gives a role one privilege of each kind
// CloneUser copies, and checks the clone holds them all.
func TestPGCloneCopiesEveryKind(t *testing.T) {
	s := getServer(t, dbtarget.Postgres)
	ctx := context.Background()
	schema := "ct_s" + randomHex(4)
	for _, stmt := range []string{
		"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".wide (a int, b int)",
		"CREATE SEQUENCE " + schema + ".seq",
		"CREATE VIEW " + schema + ".v AS SELECT a FROM " + schema + ".wide",
		"CREATE FUNCTION " + schema + ".f(x int) RETURNS int LANGUAGE sql AS 'SELECT x'",
		"REVOKE EXECUTE ON FUNCTION " + schema + ".f(int) FROM PUBLIC",
	} {
		if err := s.raw(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() { s.raw(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	a := s.open(t)
	from, to := s.newUser(t), s.newUser(t)
	s.mustCreate(t, a, from, password(), []dbtarget.Privilege{
		{Level: dbtarget.LevelDatabase, Privileges: []string{"connect", "temp"}, Database: s.db},
		{Level: dbtarget.LevelSchema, Privileges: []string{"USAGE"}, Schema: schema},
		{Level: dbtarget.LevelColumn, Privileges: []string{"SELECT", "UPDATE"}, Schema: schema, Table: "wide", Column: "b"},
		{Level: dbtarget.LevelSequence, Privileges: []string{"USAGE"}, Schema: schema, Object: "seq"},
		{Level: dbtarget.LevelView, Privileges: []string{"SELECT"}, Schema: schema, Object: "v"},
		{Level: dbtarget.LevelFunction, Privileges: []string{"EXECUTE"}, Schema: schema, Object: "f"},
	})
	if err := s.raw(ctx, "ALTER DEFAULT PRIVILEGES IN SCHEMA "+schema+" GRANT SELECT ON TABLES TO "+from); err != nil {
		t.Fatal(err)
	}
	if err := s.raw(ctx, "ALTER ROLE "+from+" CREATEDB CONNECTION LIMIT 7"); err != nil {
		t.Fatal(err)
	}
	if err := a.CloneUser(ctx, from, to, password(), nil); err != nil {
		t.Fatalf("CloneUser: %v", err)
	}
	checks := []string{
		"has_database_privilege($1, current_database(), 'CONNECT')",
		"has_database_privilege($1, current_database(), 'TEMPORARY')",
		"has_schema_privilege($1, '" + schema + "', 'USAGE')",
		"has_column_privilege($1, '" + schema + ".wide', 'b', 'SELECT')",
		"has_column_privilege($1, '" + schema + ".wide', 'b', 'UPDATE')",
		"NOT has_column_privilege($1, '" + schema + ".wide', 'a', 'SELECT')",
		"has_sequence_privilege($1, '" + schema + ".seq', 'USAGE')",
		"has_table_privilege($1, '" + schema + ".v', 'SELECT')",
		"has_function_privilege($1, '" + schema + ".f(int)', 'EXECUTE')",
		"pg_has_role($1, 'ct_scram', 'MEMBER')",
		"(SELECT rolcreatedb AND rolconnlimit = 7 AND rolcanlogin FROM pg_roles WHERE rolname = $1)",
		"EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) x WHERE x.grantee = $1::regrole)",
	}
	conn, err := pgConnect(ctx, s.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, check := range checks {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT "+check, to).Scan(&ok); err != nil || !ok {
			t.Errorf("clone: %s = %t, %v; want true", check, ok, err)
		}
	}
	// A dropped role must hand back everything, default privileges too.
	if err := a.DropUser(ctx, to, nil); err != nil {
		t.Fatalf("DropUser of the clone: %v", err)
	}
}

// TestPGGrantWithoutGrantOption: an admin that may not grant a privilege
// gets ErrDenied, not a user silently created without it, whether the
// server refuses (the admin holds nothing on the table) or only warns that
// it granted nothing (the admin holds the privilege without grant option).
func TestPGGrantWithoutGrantOption(t *testing.T) {
	s := getServer(t, dbtarget.Postgres)
	for _, holds := range []bool{false, true} {
		ctx := context.Background()
		weak, weakPW := s.newUser(t), "weak"+randomHex(8)
		if err := s.raw(ctx, "CREATE ROLE "+weak+" LOGIN CREATEROLE PASSWORD '"+weakPW+"'"); err != nil {
			t.Fatal(err)
		}
		s.enforce(t, weak)
		if holds {
			if err := s.raw(ctx, "GRANT SELECT ON "+s.table+" TO "+weak); err != nil {
				t.Fatal(err)
			}
		}
		a, err := dbtarget.Open(ctx, s.login(weak, weakPW))
		if err != nil {
			t.Fatalf("Open as a CREATEROLE admin: %v", err)
		}
		defer a.Close()
		name, pw := s.newUser(t), password()
		err = a.CreateUser(ctx, name, pw, nil, s.selectPrivs()[1:])
		if !errorsIs(err, dbtarget.ErrDenied) {
			t.Fatalf("admin holds SELECT %t: CreateUser granting SELECT: %v, want ErrDenied", holds, err)
		}
		noSecret(t, err, pw, weakPW)
		if ok, err := a.UserExists(ctx, name, nil); err != nil || ok {
			t.Fatalf("UserExists = %t, %v; want false, nil (one transaction)", ok, err)
		}
	}
}

// TestMyDatabaseGrantIsLiteral: '_' in a database name must not match
// other databases, as it would as a LIKE pattern.
func TestMyDatabaseGrantIsLiteral(t *testing.T) {
	s := getServer(t, dbtarget.MySQL)
	ctx := context.Background()
	suffix := randomHex(4)
	exact, lookalike := "ct_w_"+suffix, "ct_wx"+suffix
	for _, db := range []string{exact, lookalike} {
		if err := s.raw(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.raw(context.Background(), "DROP DATABASE IF EXISTS "+db) })
		if err := s.raw(ctx, "CREATE TABLE "+db+".t (id int)"); err != nil {
			t.Fatal(err)
		}
	}
	a := s.open(t)
	name, pw := s.newUser(t), password()
	s.mustCreate(t, a, name, pw, []dbtarget.Privilege{{Level: dbtarget.LevelDatabase, Privileges: []string{"SELECT"}, Database: exact}})
	c := s.login(name, pw)
	c.Database = ""
	run, done, err := s.session(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if err := run("SELECT count(*) FROM " + exact + ".t"); err != nil {
		t.Fatalf("SELECT from the granted database: %v", err)
	}
	if err := run("SELECT count(*) FROM " + lookalike + ".t"); err == nil {
		t.Fatalf("SELECT from %s succeeded: the grant on %s matched it as a pattern", lookalike, exact)
	}
}

// TestMyCloneCopiesAccountOptions: the clone keeps the TLS requirement
// and limits of the original, and its role-free grants at each level.
func TestMyCloneCopiesAccountOptions(t *testing.T) {
	s := getServer(t, dbtarget.MySQL)
	ctx := context.Background()
	a := s.open(t)
	from, to := s.newUser(t), s.newUser(t)
	s.mustCreate(t, a, from, password(), []dbtarget.Privilege{
		{Level: dbtarget.LevelGlobal, Privileges: []string{"PROCESS"}},
		{Level: dbtarget.LevelDatabase, Privileges: []string{"SELECT", "show view"}, Database: s.db},
		{Level: dbtarget.LevelColumn, Privileges: []string{"UPDATE"}, Database: s.db, Table: s.table, Column: "id"},
	})
	for _, h := range s.hosts {
		if err := s.raw(ctx, "ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 1000 MAX_USER_CONNECTIONS 3", from, h); err != nil {
			t.Fatal(err)
		}
		if err := s.raw(ctx, "GRANT INSERT ON "+s.db+".* TO ?@? WITH GRANT OPTION", from, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CloneUser(ctx, from, to, password(), s.hosts); err != nil {
		t.Fatalf("CloneUser: %v", err)
	}
	for _, h := range s.hosts {
		checks := map[string]string{
			"limits":       "SELECT max_questions = 1000 AND max_user_connections = 3 FROM mysql.user WHERE User = ? AND Host = ?",
			"global":       "SELECT Process_priv = 'Y' FROM mysql.user WHERE User = ? AND Host = ?",
			"database":     "SELECT COUNT(*) = 1 FROM mysql.db WHERE User = ? AND Host = ? AND Select_priv = 'Y' AND Show_view_priv = 'Y'",
			"grant option": "SELECT COUNT(*) = 1 FROM mysql.db WHERE User = ? AND Host = ? AND Insert_priv = 'Y' AND Grant_priv = 'Y'",
			"column":       "SELECT COUNT(*) = 1 FROM mysql.columns_priv WHERE User = ? AND Host = ? AND Column_name = 'id'",
			"not the same": "SELECT COUNT(*) = 0 FROM mysql.user WHERE User = ? AND Host = ? AND authentication_string = (SELECT authentication_string FROM mysql.user WHERE User = '" + from + "' LIMIT 1)",
		}
		for what, q := range checks {
			ok, err := myQueryInt(ctx, s.admin, q, to, h)
			if err != nil || ok != 1 {
				t.Errorf("clone %s@%s: %s = %d, %v; want 1", to, h, what, ok, err)
			}
		}
	}
}
