package sqlite_test

import (
	"database/sql"
	"testing"
)

// openRaw opens the file with the bare driver, for what the store API
// cannot do (rewrite schema_migrations, read pragmas).
func openRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	return raw
}
