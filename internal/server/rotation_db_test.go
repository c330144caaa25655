package server_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget/dbtest"
)

// The databases the rotation tests create users on: PostgreSQL at
// $COFFER_TEST_POSTGRES and MySQL or MariaDB at $COFFER_TEST_MYSQL, as
// internal/rotation/dbtarget's tests use them. Every name a test creates
// starts with ct_ and is dropped when the test ends.
//
// A development PostgreSQL often trusts every local login, which would make
// every password check pass. As in dbtarget's tests, members of the NOLOGIN
// role ct_scram must give their password (pg_hba.conf lines that dbtarget's
// tests install, and these install the same way if they are missing); test
// users are made members, and users cloned from them inherit it.

const (
	rotPGDefault = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	rotMyDefault = "root@tcp(127.0.0.1:3306)/"
	rotScram     = dbtest.ScramGroup
)

// rotDB is a database server with a test database holding table ct_t with
// one row.
type rotDB struct {
	engine    string // "postgresql" or "mysql"
	host      string
	port      int
	adminUser string
	adminPass string
	db        string // the test database
	table     string

	mu       sync.Mutex
	prefixes []string // user name prefixes to drop at the end
}

func rotHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// rotUnavailable skips the test, or fails it when CI=true: a missing
// database must not pass for a green run.
func rotUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	dbtest.Unavailable(t, what, err)
}

// rotPostgres returns the PostgreSQL server with a fresh test database, on
// which members of ct_scram must give their password.
func rotPostgres(t *testing.T) *rotDB {
	t.Helper()
	dsn := rotPGDefault
	if v := os.Getenv("COFFER_TEST_POSTGRES"); v != "" {
		dsn = v
	}
	base, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("COFFER_TEST_POSTGRES: %v", err)
	}
	d := &rotDB{engine: "postgresql", host: base.Host, port: int(base.Port), adminUser: base.User, adminPass: base.Password,
		db: "ct_db" + rotHex(10), table: "ct_t"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.pgExec(ctx, base.Database, "SELECT 1"); err != nil {
		rotUnavailable(t, "PostgreSQL", err)
	}
	admin := dbtarget.Conn{Engine: dbtarget.Postgres, Host: d.host, Port: d.port, User: d.adminUser, Password: d.adminPass, Database: base.Database}
	if err := dbtest.EnforceSCRAM(ctx, admin); err != nil {
		t.Fatalf("cannot make PostgreSQL check passwords: %v", err)
	}
	if err := d.pgExec(ctx, base.Database, "CREATE DATABASE "+d.db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.pgTeardown(t, base.Database) })
	d.mustExec(t, "CREATE TABLE "+d.table+" (id int); INSERT INTO "+d.table+" VALUES (1)")
	return d
}

// rotMySQL returns the MySQL or MariaDB server with a fresh test database.
func rotMySQL(t *testing.T) *rotDB {
	t.Helper()
	dsn := rotMyDefault
	if v := os.Getenv("COFFER_TEST_MYSQL"); v != "" {
		dsn = v
	}
	base, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("COFFER_TEST_MYSQL: %v", err)
	}
	host, portText, err := net.SplitHostPort(base.Addr)
	if err != nil {
		t.Fatalf("COFFER_TEST_MYSQL address: %v", err)
	}
	port, _ := strconv.Atoi(portText)
	d := &rotDB{engine: "mysql", host: host, port: port, adminUser: base.User, adminPass: base.Passwd,
		db: "ct_db" + rotHex(10), table: "ct_t"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.myExec(ctx, d.adminUser, d.adminPass, "", "SELECT 1"); err != nil {
		rotUnavailable(t, "MySQL", err)
	}
	if err := d.myExec(ctx, d.adminUser, d.adminPass, "", "CREATE DATABASE "+d.db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.myTeardown(t) })
	d.mustExec(t, "CREATE TABLE "+d.table+" (id int)")
	d.mustExec(t, "INSERT INTO "+d.table+" VALUES (1)")
	return d
}

// dropLater has every user whose name starts with prefix dropped when the
// test ends.
func (d *rotDB) dropLater(prefix string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prefixes = append(d.prefixes, prefix)
}

// mustExec runs a statement as the admin in the test database.
func (d *rotDB) mustExec(t *testing.T, stmt string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if d.engine == "postgresql" {
		err = d.pgExec(ctx, d.db, stmt, args...)
	} else {
		err = d.myExec(ctx, d.adminUser, d.adminPass, d.db, stmt, args...)
	}
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// login logs in as user with password to the test database and reads the
// test table; it returns the error of whichever failed.
func (d *rotDB) login(user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var n int
	if d.engine == "postgresql" {
		conn, err := d.pgConnect(ctx, user, password, d.db)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		return conn.QueryRow(ctx, "SELECT count(*) FROM "+d.table).Scan(&n)
	}
	db, err := d.myDB(user, password, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRowContext(ctx, "SELECT count(*) FROM "+d.table).Scan(&n)
}

// mustLogin fails the test unless user logs in with password and reads the table.
func (d *rotDB) mustLogin(t *testing.T, what, user, password string) {
	t.Helper()
	if err := d.login(user, password); err != nil {
		t.Fatalf("%s: %s cannot log in and read %s: %v", what, user, d.table, err)
	}
}

// mustRefuse fails the test unless the server refuses user's password.
func (d *rotDB) mustRefuse(t *testing.T, what, user, password string) {
	t.Helper()
	err := d.login(user, password)
	if err == nil {
		t.Fatalf("%s: %s logs in with a password that must be refused", what, user)
	}
	if !d.refused(err) {
		t.Fatalf("%s: %s: got %v, want the password refused", what, user, err)
	}
}

// refused reports whether err is the server refusing a login.
func (d *rotDB) refused(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "28P01" || pe.Code == "28000" // invalid_password, invalid_authorization_specification
	}
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1045 // ER_ACCESS_DENIED_ERROR
}

// enforce makes the server check user's password (PostgreSQL: a member of
// ct_scram); MySQL always does.
func (d *rotDB) enforce(t *testing.T, user string) {
	t.Helper()
	if d.engine == "postgresql" {
		d.mustExec(t, "GRANT "+rotScram+" TO "+pgx.Identifier{user}.Sanitize())
	}
}

// createUser creates user with password, allowed to read the test table,
// and drops it (and its clone) when the test ends.
func (d *rotDB) createUser(t *testing.T, user, password string) {
	t.Helper()
	d.dropLater(user)
	if d.engine == "postgresql" {
		d.mustExec(t, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE %s", user, password, rotScram))
		d.mustExec(t, "GRANT SELECT ON "+d.table+" TO "+user)
		return
	}
	d.mustExec(t, "CREATE USER ?@'%' IDENTIFIED BY ?", user, password)
	d.mustExec(t, "GRANT SELECT ON "+d.db+".* TO ?@'%'", user)
}

// users returns the users whose names start with prefix: pg_roles or mysql.user.
func (d *rotDB) users(t *testing.T, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := d.usersLike(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (d *rotDB) usersLike(ctx context.Context, prefix string) ([]string, error) {
	like := strings.ReplaceAll(prefix, "_", `\_`) + "%"
	if d.engine == "postgresql" {
		conn, err := d.pgConnect(ctx, d.adminUser, d.adminPass, d.db)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(ctx, "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1", like)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	db, err := d.myDB(d.adminUser, d.adminPass, "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT User FROM mysql.user WHERE User LIKE ? ORDER BY 1", like)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PostgreSQL plumbing.

func (d *rotDB) pgConnect(ctx context.Context, user, password, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = d.host, uint16(d.port), user, password, database
	cfg.ConnectTimeout = 10 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

func (d *rotDB) pgExec(ctx context.Context, database, stmt string, args ...any) error {
	conn, err := d.pgConnect(ctx, d.adminUser, d.adminPass, database)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt, args...)
	return err
}

// pgTeardown drops the test database, then the test's roles.
func (d *rotDB) pgTeardown(t *testing.T, adminDB string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.pgExec(ctx, adminDB, "DROP DATABASE IF EXISTS "+d.db+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", d.db, err)
	}
	d.db = adminDB
	for _, p := range d.prefixes {
		names, err := d.usersLike(ctx, p)
		if err != nil {
			t.Errorf("list roles %s*: %v", p, err)
			continue
		}
		for _, n := range names {
			id := pgx.Identifier{n}.Sanitize()
			if err := d.pgExec(ctx, adminDB, "DROP OWNED BY "+id+"; DROP ROLE "+id); err != nil {
				t.Errorf("drop role %s: %v", n, err)
			}
		}
	}
}

func (d *rotDB) myDB(user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, password, database
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(d.host, strconv.Itoa(d.port))
	cfg.Timeout = 10 * time.Second
	cfg.InterpolateParams = true
	cfg.Logger = &mysql.NopLogger{}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

func (d *rotDB) myExec(ctx context.Context, user, password, database, stmt string, args ...any) error {
	db, err := d.myDB(user, password, database)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt, args...)
	return err
}

// myTeardown drops the test database, then the test's users.
func (d *rotDB) myTeardown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.myExec(ctx, d.adminUser, d.adminPass, "", "DROP DATABASE IF EXISTS "+d.db); err != nil {
		t.Errorf("drop database %s: %v", d.db, err)
	}
	db, err := d.myDB(d.adminUser, d.adminPass, "")
	if err != nil {
		t.Error(err)
		return
	}
	defer db.Close()
	for _, p := range d.prefixes {
		like := strings.ReplaceAll(p, "_", `\_`) + "%"
		rows, err := db.QueryContext(ctx, "SELECT User, Host FROM mysql.user WHERE User LIKE ?", like)
		if err != nil {
			t.Errorf("list users %s*: %v", p, err)
			continue
		}
		var accounts [][2]string
		for rows.Next() {
			var a [2]string
			if err := rows.Scan(&a[0], &a[1]); err == nil {
				accounts = append(accounts, a)
			}
		}
		rows.Close()
		for _, a := range accounts {
			if _, err := db.ExecContext(ctx, "DROP USER IF EXISTS ?@?", a[0], a[1]); err != nil {
				t.Errorf("drop user %s@%s: %v", a[0], a[1], err)
			}
		}
	}
}
