package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeReadOnlyTx          = "25006"
	codeSerialization       = "40001"
	codeDeadlock            = "40P01"
	codeLockNotAvailable    = "55P03"
	codeQueryCanceled       = "57014"
	codeIdleInTxTimeout     = "25P03"
)

// ErrSchemaNewer is wrapped by Open's error when the database was migrated
// by a newer Coffer than this one.
var ErrSchemaNewer = errors.New("database schema is newer than this binary supports")

// pgCode returns err's SQLSTATE, or "" when the server did not report err.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgConstraint returns the constraint err violated, or "".
func pgConstraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == codeUniqueViolation }
func isForeignKey(err error) bool { return pgCode(err) == codeForeignKeyViolation }

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
	switch code := pgCode(err); {
	case errors.Is(err, pgx.ErrNoRows):
		return fault.Wrap(op, fault.NotFound, what+" not found", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), code == codeQueryCanceled:
		return fault.Wrap(op, fault.Unavailable, "store request canceled", err)
	case code == codeUniqueViolation:
		return fault.Wrap(op, fault.Exists, what+" already exists", err)
	case code == codeReadOnlyTx:
		return fault.Wrap(op, fault.Internal, "write in a read-only transaction", err)
	case code == codeSerialization, code == codeDeadlock, code == codeLockNotAvailable:
		return fault.Wrap(op, fault.Conflict, "store busy, retry", err)
	case strings.HasPrefix(code, "22"):
		// Data exception: a NUL byte or invalid UTF-8 in text, a number
		// out of range. The value, not the store, is at fault.
		return fault.Wrap(op, fault.Invalid, "value cannot be stored", err)
	case isUnavailable(err, code):
		return fault.Wrap(op, fault.Unavailable, "store unavailable", err)
	}
	return fault.Wrap(op, fault.Internal, "store failure", err)
}

// isUnavailable reports whether err says the database cannot be reached or
// cannot serve: the connection failed or went away, the server is shutting
// down or out of resources, or refused the session.
func isUnavailable(err error, code string) bool {
	switch {
	case code == codeIdleInTxTimeout:
		return true
	case code != "":
		// 08: connection exception; 53: insufficient resources (disk
		// full, out of memory, too many connections); 57P0x: the server
		// is shutting down or was terminated; 28: the role cannot log in;
		// 3D: the database does not exist.
		for _, class := range []string{"08", "53", "57P0", "28", "3D"} {
			if strings.HasPrefix(code, class) {
				return true
			}
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) || errors.Is(err, puddle.ErrClosedPool)
}
