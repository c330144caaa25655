// Package dbtest gives tests of other packages what the rotation tests
// need from the machine's real database servers: their admin connections,
// and PostgreSQL that really checks passwords (EnforceSCRAM).
package dbtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// ScramGroup is the role whose members must log in with a password. The
// machine's PostgreSQL may trust every local login; EnforceSCRAM puts
// lines for this role at the top of its pg_hba.conf when it does, and
// tests make the users whose passwords they check members of it.
const ScramGroup = "ct_scram"

// hbaMarker starts the lines the tests put at the top of pg_hba.conf.
const hbaMarker = "# coffer internal/rotation/dbtarget tests: members of role ct_scram log in with a password"

var hbaLines = hbaMarker + `
host all +ct_scram 127.0.0.1/32 scram-sha-256
host all +ct_scram ::1/128 scram-sha-256
`

// PostgresAdmin returns the admin connection of the test PostgreSQL:
// COFFER_TEST_POSTGRES, or postgres@127.0.0.1:5432 trusted.
func PostgresAdmin() (dbtarget.Conn, error) {
	dsn := os.Getenv("COFFER_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	base, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return dbtarget.Conn{}, fmt.Errorf("COFFER_TEST_POSTGRES: %w", err)
	}
	return dbtarget.Conn{Engine: dbtarget.Postgres, Host: base.Host, Port: int(base.Port),
		User: base.User, Password: base.Password, Database: base.Database}, nil
}

// MySQLAdmin returns the admin connection of the test MariaDB/MySQL:
// root with no password on 127.0.0.1:3306, or COFFER_TEST_MYSQL_HOST/PORT.
func MySQLAdmin() dbtarget.Conn {
	c := dbtarget.Conn{Engine: dbtarget.MySQL, Host: "127.0.0.1", Port: 3306, User: "root", Password: os.Getenv("COFFER_TEST_MYSQL_PASSWORD")}
	if h := os.Getenv("COFFER_TEST_MYSQL_HOST"); h != "" {
		c.Host = h
	}
	return c
}

// Unavailable fails the test when CI=true and skips it otherwise: CI never
// passes a test that did not run.
func Unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required in CI: %v", what, err)
	}
	tb.Skipf("%s not reachable: %v", what, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// EnforceSCRAM makes sure that members of ct_scram must give their
// password, changing pg_hba.conf if it must (see the package doc).
func EnforceSCRAM(ctx context.Context, admin dbtarget.Conn) error {
	err := PGExec(ctx, admin, "CREATE ROLE "+ScramGroup+" NOLOGIN")
	if err != nil && pgCode(err) != "42710" { // 42710: exists
		return err
	}
	probe, right := "ct_probe"+randomHex(6), "right"+randomHex(8)
	if err := PGExec(ctx, admin, "CREATE ROLE "+probe+" LOGIN PASSWORD '"+right+"' IN ROLE "+ScramGroup); err != nil {
		return err
	}
	defer PGExec(context.Background(), admin, "DROP ROLE IF EXISTS "+probe)
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
	conn, err := PGConnect(ctx, admin)
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

// PGConnect opens a connection as c.
func PGConnect(ctx context.Context, c dbtarget.Conn) (*pgx.Conn, error) {
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

// PGExec runs sql on the server as c.
func PGExec(ctx context.Context, c dbtarget.Conn, sql string, args ...any) error {
	conn, err := PGConnect(ctx, c)
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
