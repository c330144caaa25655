package dbtarget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

// server is one database server the suite runs against, with this run's
// test database on it.
type server struct {
	engine string
	admin  dbtarget.Conn // the admin credential, on the test database
	db     string        // this run's test database, ct_…
	table  string        // a table in db holding one row
	hosts  []string      // the hosts test users get
	// raw runs a statement as the admin, outside the package under test.
	raw func(ctx context.Context, sql string, args ...any) error
	// enforce makes the server check name's password (PostgreSQL: makes
	// it a member of ct_scram, see the package doc).
	enforce func(tb testing.TB, name string)
	// session logs in as c and returns a function that runs sql in that
	// one session, and a function that closes it.
	session func(ctx context.Context, c dbtarget.Conn) (run func(sql string) error, done func(), err error)
	// drop removes user name (every host) whatever state it is in.
	drop func(ctx context.Context, name string) error
	// teardown drops the test database.
	teardown func() error
}

var servers struct {
	sync.Mutex
	byEngine map[string]*server
	errs     map[string]error
}

// getServer returns the server of engine, setting it up on first use. When
// the server is unreachable the test is skipped, or fails with CI=true,
// where a missing database must not pass for a green run.
func getServer(tb testing.TB, engine string) *server {
	tb.Helper()
	servers.Lock()
	defer servers.Unlock()
	if servers.byEngine == nil {
		servers.byEngine, servers.errs = map[string]*server{}, map[string]error{}
	}
	s, err := servers.byEngine[engine], servers.errs[engine]
	if s == nil && err == nil {
		if engine == dbtarget.Postgres {
			s, err = setupPG()
		} else {
			s, err = setupMy()
		}
		servers.byEngine[engine], servers.errs[engine] = s, err
	}
	if err != nil {
		msg := fmt.Sprintf("%s test server unavailable: %v", engine, err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	for engine, s := range servers.byEngine {
		if s == nil {
			continue
		}
		if err := s.teardown(); err != nil {
			fmt.Fprintf(os.Stderr, "drop %s test database %s: %v\n", engine, s.db, err)
			code = 1
		}
	}
	os.Exit(code)
}

// eachServer runs f as a subtest per engine.
func eachServer(t *testing.T, f func(t *testing.T, s *server)) {
	for _, engine := range []string{dbtarget.Postgres, dbtarget.MySQL} {
		t.Run(engine, func(t *testing.T) { f(t, getServer(t, engine)) })
	}
}

// newUser returns a fresh user name and drops that user when the test ends.
func (s *server) newUser(tb testing.TB) string {
	tb.Helper()
	name := "ct_u" + randomHex(6)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.drop(ctx, name); err != nil {
			tb.Errorf("clean up user %s: %v", name, err)
		}
	})
	return name
}

// login returns the Conn of user name with password, on the test database.
func (s *server) login(name, password string) dbtarget.Conn {
	c := s.admin
	c.User, c.Password = name, password
	return c
}

// open opens an Admin session and closes it when the test ends.
func (s *server) open(tb testing.TB) *dbtarget.Admin {
	tb.Helper()
	a, err := dbtarget.Open(context.Background(), s.admin)
	if err != nil {
		tb.Fatalf("Open(%v): %v", s.admin, err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}

// selectPrivs are the privileges that let a user read s.table.
func (s *server) selectPrivs() []dbtarget.Privilege {
	if s.engine == dbtarget.Postgres {
		return []dbtarget.Privilege{
			{Level: dbtarget.LevelDatabase, Privileges: []string{"CONNECT"}, Database: s.db},
			{Level: dbtarget.LevelTable, Privileges: []string{"SELECT"}, Table: s.table},
		}
	}
	return []dbtarget.Privilege{{Level: dbtarget.LevelTable, Privileges: []string{"SELECT"}, Database: s.db, Table: s.table}}
}

// selectTable reads table as c, in a session of its own.
func (s *server) selectTable(ctx context.Context, c dbtarget.Conn, table string) error {
	run, done, err := s.session(ctx, c)
	if err != nil {
		return err
	}
	defer done()
	return run("SELECT count(*) FROM " + s.quote(table))
}

func (s *server) quote(name string) string {
	if s.engine == dbtarget.Postgres {
		return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// mustCreate creates name with password and privs, and makes the server
// check its password.
func (s *server) mustCreate(tb testing.TB, a *dbtarget.Admin, name, password string, privs []dbtarget.Privilege) {
	tb.Helper()
	if err := a.CreateUser(context.Background(), name, password, s.hosts, privs); err != nil {
		tb.Fatalf("CreateUser(%s): %v", name, err)
	}
	s.enforce(tb, name)
}

// mustLogin fails the test unless c logs in.
func mustLogin(tb testing.TB, c dbtarget.Conn) {
	tb.Helper()
	if err := dbtarget.TestLogin(context.Background(), c); err != nil {
		tb.Fatalf("TestLogin(%v): %v, want nil", c, err)
	}
}

// mustRefuse fails the test unless the server refuses c with ErrLogin,
// with an error that does not show c's password.
func mustRefuse(tb testing.TB, c dbtarget.Conn) {
	tb.Helper()
	err := dbtarget.TestLogin(context.Background(), c)
	if !errors.Is(err, dbtarget.ErrLogin) {
		tb.Fatalf("TestLogin(%v): %v, want ErrLogin", c, err)
	}
	noSecret(tb, err, c.Password)
}

// noSecret fails the test if err's text shows one of secrets.
func noSecret(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			tb.Errorf("error %q shows a password", err)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// password returns a random password with characters that need quoting.
func password() string {
	return `Pw'"` + "`\\$;-- " + randomHex(8)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
