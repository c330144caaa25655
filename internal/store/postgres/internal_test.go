package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coffer-secrets/coffer/internal/fault"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations: got %d, want 0001 first", len(ms))
	}
	tests := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"no number", []string{"0001_a.sql", "init.sql"}},
		{"not from 1", []string{"0002_b.sql"}},
		{"repeated", []string{"0001_a.sql", "01_a.sql"}},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: got nil error, want one", tt.name)
		}
	}
}

// TestDBError pins the mapping of driver errors onto fault kinds that the
// core branches on.
func TestDBError(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"no rows", pgx.ErrNoRows, fault.NotFound},
		{"unique", pg("23505"), fault.Exists},
		{"serialization", pg("40001"), fault.Conflict},
		{"deadlock", pg("40P01"), fault.Conflict},
		{"lock not available", pg("55P03"), fault.Conflict},
		{"read-only transaction", pg("25006"), fault.Internal},
		{"NUL in text", pg("22021"), fault.Invalid},
		{"connection failure", pg("08006"), fault.Unavailable},
		{"admin shutdown", pg("57P01"), fault.Unavailable},
		{"too many connections", pg("53300"), fault.Unavailable},
		{"disk full", pg("53100"), fault.Unavailable},
		{"idle in transaction", pg("25P03"), fault.Unavailable},
		{"statement timeout", pg("57014"), fault.Unavailable},
		{"bad password", pg("28P01"), fault.Unavailable},
		{"syntax error", pg("42601"), fault.Internal},
		{"canceled", context.Canceled, fault.Unavailable},
		{"conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), fault.Unavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, fault.Unavailable},
		{"a bug", errors.New("cannot scan"), fault.Internal},
	}
	for _, tt := range tests {
		err := dbError("op", tt.err, "secret")
		if got := fault.KindOf(err); got != tt.want {
			t.Errorf("%s: got %v (%v), want %v", tt.name, got, err, tt.want)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: %v does not wrap the driver's error", tt.name, err)
		}
	}
	if err := dbError("op", nil, ""); err != nil {
		t.Errorf("nil: got %v, want nil", err)
	}
}

func TestPoolConfig(t *testing.T) {
	cfg, err := poolConfig("postgres://u@h/db?pool_max_conns=7", Options{})
	if err != nil {
		t.Fatal(err)
	}
	params := cfg.ConnConfig.RuntimeParams
	if cfg.MaxConns != 7 || params["application_name"] != "coffer" ||
		params["idle_in_transaction_session_timeout"] != "60000" {
		t.Errorf("defaults: got %d conns, %v", cfg.MaxConns, params)
	}
	cfg, err = poolConfig("postgres://u@h/db?application_name=x&idle_in_transaction_session_timeout=5s",
		Options{MaxConns: 3, IdleInTxTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	params = cfg.ConnConfig.RuntimeParams
	if cfg.MaxConns != 3 || params["application_name"] != "x" || params["idle_in_transaction_session_timeout"] != "5s" {
		t.Errorf("overrides: got %d conns, %v", cfg.MaxConns, params)
	}
	cfg, err = poolConfig("host=h user=u", Options{IdleInTxTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; ok {
		t.Errorf("negative IdleInTxTimeout: the server's setting was overridden")
	}
}
