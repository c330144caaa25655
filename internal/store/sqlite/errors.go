package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// SQLite result codes (https://sqlite.org/rescode.html). The primary code is
// the low byte of an extended one; the driver reports extended codes.
const (
	codeBusy     = 5
	codeLocked   = 6
	codeNoMem    = 7
	codeReadOnly = 8
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14

	codeConstraintForeignKey = 787
	codeConstraintPrimaryKey = 1555
	codeConstraintUnique     = 2067
)

// ErrSchemaNewer is wrapped by Open's error when the database was migrated
// by a newer Coffer than this one.
var ErrSchemaNewer = errors.New("database schema is newer than this binary supports")

// sqliteCode returns err's extended SQLite result code, or 0.
func sqliteCode(err error) int {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		return c.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == codeConstraintUnique || c == codeConstraintPrimaryKey
}

func isForeignKey(err error) bool { return sqliteCode(err) == codeConstraintForeignKey }

// dbError maps a driver error onto a fault error. what names the record
// ("secret", "version") in the client-safe message; messages never include
// values, so sealed bytes cannot leak through them.
func dbError(op string, err error, what string) error {
	if err == nil {
		return nil
	}
	if what == "" {
		what = "record"
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fault.Wrap(op, fault.NotFound, what+" not found", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fault.Wrap(op, fault.Unavailable, "store request canceled", err)
	case isUnique(err):
		return fault.Wrap(op, fault.Exists, what+" already exists", err)
	case sqliteCode(err)&0xff == codeReadOnly:
		return fault.Wrap(op, fault.Internal, "write in a read-only transaction", err)
	}
	kind := kindOfCode(sqliteCode(err))
	msg := "store failure"
	if kind == fault.Conflict {
		msg = "store busy, retry"
	}
	return fault.Wrap(op, kind, msg, err)
}

func kindOfCode(code int) fault.Kind {
	switch code & 0xff {
	case codeBusy, codeLocked:
		return fault.Conflict
	case codeIOErr, codeCantOpen, codeFull, codeNoMem:
		return fault.Unavailable
	}
	return fault.Internal
}
