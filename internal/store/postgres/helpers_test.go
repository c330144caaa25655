package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer-secrets/coffer/internal/store/postgres"
)

// defaultAdminDSN is the PostgreSQL of a developer machine or a CI service
// container: trust authentication for user postgres on localhost.
const defaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// adminDSN returns the DSN of the database the tests connect to in order
// to create their own: $COFFER_TEST_POSTGRES, or defaultAdminDSN.
func adminDSN() string {
	if dsn := os.Getenv("COFFER_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultAdminDSN
}

// testDatabase is the database this run of the tests creates, with a random
// name, and drops in TestMain when every test is done. Each test works in a
// schema of its own inside it: a new one (freshSchema), or one an earlier
// test used and emptyStore emptied.
var testDatabase struct {
	once sync.Once
	name string
	pool *pgxpool.Pool // connected to the test database, for DDL and sabotage
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testDatabase.name != "" {
		if err := dropDatabase(testDatabase.name); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", testDatabase.name, err)
			code = 1
		}
	}
	os.Exit(code)
}

// database returns a pool on this run's test database, creating it on first
// use. When PostgreSQL cannot be reached the test is skipped, or fails with
// CI=true, where a missing database must not pass for a green run.
func database(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	testDatabase.once.Do(func() {
		testDatabase.name, testDatabase.pool, testDatabase.err = createDatabase()
	})
	if err := testDatabase.err; err != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable at %s (set COFFER_TEST_POSTGRES to an admin DSN): %v",
			redact(adminDSN()), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return testDatabase.pool
}

func createDatabase() (string, *pgxpool.Pool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		return "", nil, err
	}
	defer admin.Close(ctx)
	name := "coffer_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	pool, err := pgxpool.New(ctx, withParams(adminDSN(), map[string]string{"dbname": name}))
	if err != nil {
		return name, nil, err
	}
	// Installed once, before the tests migrate schemas in parallel: two
	// migrations installing it at once would leave one without the index
	// (TestSearchWithoutTrigrams covers a database without it).
	if _, err := pool.Exec(ctx, "CREATE EXTENSION pg_trgm"); err != nil {
		return name, pool, err
	}
	return name, pool, nil
}

func dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if testDatabase.pool != nil {
		testDatabase.pool.Close()
	}
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
	return err
}

var schemas atomic.Int64

// freshSchema creates an empty schema in the test database and returns a
// DSN whose search_path puts Coffer's tables there.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	pool := database(tb)
	schema := fmt.Sprintf("t%d_%s", schemas.Add(1), randomHex(3))
	if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("CREATE SCHEMA: %v", err)
	}
	return withParams(adminDSN(), map[string]string{"dbname": testDatabase.name, "search_path": schema})
}

// spare holds migrated schemas that tests are done with.
var spare struct {
	sync.Mutex
	dsns []string
}

// emptyStore opens a store on an empty, migrated schema, and gives the
// schema back for reuse when the test ends. Creating and migrating a schema
// costs half a second of file creation on a slow disk; emptying one with
// DELETE costs milliseconds, so the conformance suite, which wants an empty
// store per case, migrates once.
func emptyStore(tb testing.TB) *postgres.DB {
	tb.Helper()
	spare.Lock()
	var dsn string
	if n := len(spare.dsns); n > 0 {
		dsn, spare.dsns = spare.dsns[n-1], spare.dsns[:n-1]
	}
	spare.Unlock()
	if dsn == "" {
		dsn = freshSchema(tb)
	} else {
		emptySchema(tb, dsnSchema(dsn))
	}
	db := MustOpen(tb, dsn)
	tb.Cleanup(func() {
		db.Close()
		spare.Lock()
		spare.dsns = append(spare.dsns, dsn)
		spare.Unlock()
	})
	return db
}

// emptySchema deletes every row of schema's tables but schema_migrations,
// and puts back the rows the migrations seed. Every foreign key cascades, so
// the order of the deletes does not matter.
func emptySchema(tb testing.TB, schema string) {
	tb.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, database(tb), func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT format('DELETE FROM %I.%I', schemaname, tablename)
			FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, schema)
		if err != nil {
			return err
		}
		deletes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		deletes = append(deletes, `INSERT INTO `+schema+`.counters (name, value)
			VALUES ('version_seq', 0), ('rotation_run_id', 0)`)
		_, err = tx.Exec(ctx, strings.Join(deletes, "; "))
		return err
	})
	if err != nil {
		tb.Fatalf("empty schema %s: %v", schema, err)
	}
}

// MustOpen opens a store on dsn and closes it when the test ends.
func MustOpen(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// dsnSchema returns the search_path of a DSN that freshSchema made.
func dsnSchema(dsn string) string {
	_, after, _ := strings.Cut(dsn, "search_path=")
	schema, _, _ := strings.Cut(after, "&")
	schema, _, _ = strings.Cut(schema, " ")
	return schema
}

// withParams returns dsn, a URL or key=value pairs, with params set.
func withParams(dsn string, params map[string]string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		for k, v := range params {
			if k == "dbname" {
				u.Path = "/" + v
				continue
			}
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += " " + k + "=" + v // the values here need no quoting
	}
	return dsn
}

// redact hides a password in dsn.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
			return u.String()
		}
	}
	return passwordParam.ReplaceAllString(dsn, "password=xxx")
}

var passwordParam = regexp.MustCompile(`password=\S+`)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
