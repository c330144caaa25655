package dbtarget_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget/dbtest"
)

const defaultPGDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// scramGroup is the role whose members must log in with a password; see
// the package doc.
const scramGroup = dbtest.ScramGroup

func pgDSN() string {
	if dsn := os.Getenv("COFFER_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultPGDSN
}

func setupPG() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, err := pgconn.ParseConfig(pgDSN())
	if err != nil {
		return nil, fmt.Errorf("COFFER_TEST_POSTGRES: %w", err)
	}
	admin := dbtarget.Conn{Engine: dbtarget.Postgres, Host: base.Host, Port: int(base.Port),
		User: base.User, Password: base.Password, Database: base.Database}
	if err := pgExec(ctx, admin, "SELECT 1"); err != nil {
		return nil, err
	}
	if err := dbtest.EnforceSCRAM(ctx, admin); err != nil {
		return nil, fmt.Errorf("cannot make PostgreSQL check passwords: %w", err)
	}
	s := &server{engine: dbtarget.Postgres, db: "ct_db" + randomHex(6), table: "ct_t", hosts: []string{"%"}}
	if err := pgExec(ctx, admin, "CREATE DATABASE "+s.db); err != nil {
		return nil, err
	}
	s.admin = admin
	s.admin.Database = s.db
	s.teardown = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return pgExec(ctx, admin, "DROP DATABASE "+s.db+" WITH (FORCE)")
	}
	s.raw = func(ctx context.Context, sql string, args ...any) error { return pgExec(ctx, s.admin, sql, args...) }
	s.session = func(ctx context.Context, c dbtarget.Conn) (func(string) error, func(), error) {
		conn, err := pgConnect(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		run := func(sql string) error { _, err := conn.Exec(ctx, sql); return err }
		return run, func() { conn.Close(context.Background()) }, nil
	}
	s.enforce = func(tb testing.TB, name string) {
		tb.Helper()
		if err := s.raw(context.Background(), "GRANT "+scramGroup+" TO "+s.quote(name)); err != nil {
			tb.Fatalf("GRANT %s TO %s: %v", scramGroup, name, err)
		}
	}
	s.drop = func(ctx context.Context, name string) error {
		return s.raw(ctx, fmt.Sprintf(`DO $$ BEGIN
			IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %[1]s) THEN
				EXECUTE 'DROP OWNED BY ' || quote_ident(%[1]s);
				EXECUTE 'DROP ROLE ' || quote_ident(%[1]s);
			END IF; END $$`, "'"+name+"'")) // test names are [a-z0-9_]
	}
	err = s.raw(ctx, "CREATE TABLE "+s.table+" (id int); INSERT INTO "+s.table+" VALUES (1)")
	if err != nil {
		s.teardown()
		return nil, err
	}
	return s, nil
}

func pgConnect(ctx context.Context, c dbtarget.Conn) (*pgx.Conn, error) {
	return dbtest.PGConnect(ctx, c)
}

func pgExec(ctx context.Context, c dbtarget.Conn, sql string, args ...any) error {
	return dbtest.PGExec(ctx, c, sql, args...)
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
