// Package open opens a store from its address: the one place that knows
// every backend, so the server and the operator commands agree.
package open

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// Open opens the store at addr:
//   - "" : the embedded SQLite database coffer.db in dataDir;
//   - "sqlite:PATH": a SQLite database file;
//   - "postgres://…" or "postgresql://…": a PostgreSQL database (any DSN
//     pgx accepts in URL form; see store/postgres).
func Open(ctx context.Context, addr, dataDir string) (store.Store, error) {
	switch {
	case addr == "":
		return sqlite.Open(ctx, filepath.Join(dataDir, "coffer.db"))
	case strings.HasPrefix(addr, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(addr, "sqlite:"))
	case strings.HasPrefix(addr, "postgres://"), strings.HasPrefix(addr, "postgresql://"):
		return postgres.Open(ctx, addr, postgres.Options{})
	}
	return nil, fault.E("store.Open", fault.Invalid, "the store address must be sqlite:PATH or postgres://…")
}

// IsPostgres reports whether addr names a PostgreSQL store.
func IsPostgres(addr string) bool {
	return strings.HasPrefix(addr, "postgres://") || strings.HasPrefix(addr, "postgresql://")
}

// Redact returns addr without its password, for logs and errors.
func Redact(addr string) string {
	if !IsPostgres(addr) {
		return addr
	}
	scheme, rest, _ := strings.Cut(addr, "://")
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return addr
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if hasPass {
		userinfo = user + ":xxxxx"
	}
	return scheme + "://" + userinfo + "@" + host
}
