package dbtarget_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

const defaultPGDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// scramGroup is the role whose members must log in with a password; see
// the package doc.
const scramGroup = "ct_scram"

// hbaMarker starts the lines the tests put at the top of pg_hba.conf.
const hbaMarker = "# coffer internal/rotation/dbtarget tests: members of role ct_scram log in with a password"

var hbaLines = hbaMarker + `
host all +ct_scram 127.0.0.1/32 scram-sha-256
host all +ct_scram ::1/128 scram-sha-256
`

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
	if err := enforceSCRAM(ctx, admin); err != nil {
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

// enforceSCRAM makes sure that members of ct_scram must give their
// password, changing pg_hba.conf if it must (see the package doc).
func enforceSCRAM(ctx context.Context, admin dbtarget.Conn) error {
	err := pgExec(ctx, admin, "CREATE ROLE "+scramGroup+" NOLOGIN")
	if err != nil && pgCode(err) != "42710" { // 42710: exists
		return err
	}
	probe, right := "ct_probe"+randomHex(6), "right"+randomHex(8)
	if err := pgExec(ctx, admin, "CREATE ROLE "+probe+" LOGIN PASSWORD '"+right+"' IN ROLE "+scramGroup); err != nil {
		return err
	}
	defer pgExec(context.Background(), admin, "DROP ROLE IF EXISTS "+probe)
	as := admin
	as.User = probe
	checked := func() (bool, error) {
		as.Password = "wrong"
		err := dbtarget.TestLogin(ctx, as)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, dbtarget.ErrLogin) {
			return false, err
		}
		as.Password = right
		return true, dbtarget.TestLogin(ctx, as)
	}
	if ok, err := checked(); ok || err != nil {
		return err
	}
	if err := addHBALines(ctx, admin); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := checked(); ok || err != nil {
			return err
		}
	}
	return errors.New("a wrong password still logs in after pg_hba.conf was changed and reloaded")
}

// addHBALines puts hbaLines at the top of the server's pg_hba.conf unless
// they are there, and reloads the server's configuration. It refuses a
// server that is not on this machine: its hba_file is not ours to write.
func addHBALines(ctx context.Context, admin dbtarget.Conn) error {
	if ip := net.ParseIP(admin.Host); admin.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("server %s trusts every login, and is not on this machine", admin.Host)
	}
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var file string
	if err := conn.QueryRow(ctx, "SHOW hba_file").Scan(&file); err != nil {
		return err
	}
	old, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read the server's pg_hba.conf: %w", err)
	}
	if !bytes.Contains(old, []byte(hbaMarker)) {
		// Written in place: a new file from rename would be root's, and
		// unreadable to the server.
		if err := os.WriteFile(file, append([]byte(hbaLines), old...), 0o640); err != nil {
			return fmt.Errorf("write the server's pg_hba.conf: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	var bad []string
	rows, err := conn.Query(ctx, "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL")
	if err == nil {
		bad, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(bad) > 0 {
		if !bytes.Contains(old, []byte(hbaMarker)) {
			os.WriteFile(file, old, 0o640)
			conn.Exec(ctx, "SELECT pg_reload_conf()")
		}
		return fmt.Errorf("pg_hba.conf rejected (%v): %s", err, strings.Join(bad, "; "))
	}
	return nil
}

func pgConnect(ctx context.Context, c dbtarget.Conn) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = c.Host, uint16(c.Port), c.User, c.Password, c.Database
	if cfg.Port == 0 {
		cfg.Port = 5432
	}
	cfg.ConnectTimeout = 10 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

func pgExec(ctx context.Context, c dbtarget.Conn, sql string, args ...any) error {
	conn, err := pgConnect(ctx, c)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
