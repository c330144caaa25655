package dbtarget

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgSession is the PostgreSQL side of an Admin.
type pgSession struct {
	conn *pgx.Conn
	db   string // current_database(): where grants below the database level land

	mu       sync.Mutex
	notGrant bool // the server warned that a GRANT granted nothing (SQLSTATE 01007)
}

// pgConfig builds a pgx configuration from c alone: no DSN that could
// carry the password into a parse error, and nothing from PG* variables
// or ~/.pgpass.
func pgConfig(c Conn, onNotice pgconn.NoticeHandler) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	tlsCfg, plaintextOK, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port = c.Host, uint16(c.port())
	cfg.User, cfg.Password, cfg.Database = c.User, c.Password, c.Database
	cfg.ConnectTimeout = c.timeout()
	cfg.TLSConfig = tlsCfg
	cfg.Fallbacks = nil
	if tlsCfg != nil && plaintextOK {
		cfg.Fallbacks = []*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port}}
	}
	cfg.RuntimeParams = map[string]string{"application_name": "coffer-rotation"}
	cfg.ValidateConnect, cfg.AfterConnect = nil, nil
	cfg.OnNotice, cfg.OnNotification, cfg.OnPgError = onNotice, nil, nil
	return cfg, nil
}

func pgConnect(ctx context.Context, c Conn, onNotice pgconn.NoticeHandler) (*pgx.Conn, error) {
	cfg, err := pgConfig(c, onNotice)
	if err != nil {
		return nil, newError("", ErrInvalid, err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, pgConnectError(err)
	}
	return conn, nil
}

// pgConnectError classifies a failure to connect and log in.
func pgConnectError(err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "28"):
		return newError("", ErrLogin, err)
	case errors.As(err, &pe) && pe.Code == "3D000":
		return newError("", ErrInvalid, err) // no such database
	}
	return newError("", ErrUnreachable, err)
}

func openPG(ctx context.Context, c Conn) (session, error) {
	s := &pgSession{}
	conn, err := pgConnect(ctx, c, s.onNotice)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&s.db); err != nil {
		conn.Close(context.Background())
		return nil, pgError(err)
	}
	return s, nil
}

func (s *pgSession) onNotice(_ *pgconn.PgConn, n *pgconn.Notice) {
	if n.Code == "01007" {
		s.mu.Lock()
		s.notGrant = true
		s.mu.Unlock()
	}
}

// exec runs one statement. A GRANT that the server answers with a warning
// instead of granting (the admin holds no grant option) is an ErrDenied
// error, not a silent success.
func (s *pgSession) exec(ctx context.Context, tx pgx.Tx, sql string) error {
	s.mu.Lock()
	s.notGrant = false
	s.mu.Unlock()
	if _, err := tx.Exec(ctx, sql); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notGrant {
		return newError("", ErrDenied, errors.New("the server granted nothing: the admin holds no grant option on the object"))
	}
	return nil
}

func (s *pgSession) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	return s.conn.Close(ctx)
}

func (s *pgSession) createUser(ctx context.Context, name, password string, _ []string, privs []Privilege) error {
	stmts := make([]string, 0, len(privs))
	for _, p := range privs {
		stmt, err := s.grantSQL(p, name)
		if err != nil {
			return err
		}
		stmts = append(stmts, stmt)
	}
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		if err := s.exec(ctx, tx, "CREATE ROLE "+quotePG(name)+" LOGIN PASSWORD '"+verifier+"'"); err != nil {
			return err
		}
		for _, stmt := range stmts {
			if err := s.exec(ctx, tx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	return pgError(err, verifier)
}

func (s *pgSession) setPassword(ctx context.Context, name, password string, _ []string) error {
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		return s.exec(ctx, tx, "ALTER ROLE "+quotePG(name)+" PASSWORD '"+verifier+"'")
	})
	return pgError(err, verifier)
}

func (s *pgSession) userExists(ctx context.Context, name string, _ []string) (bool, error) {
	var ok bool
	err := s.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&ok)
	return ok, pgError(err)
}

// dropUser forbids the role to log in before it terminates its sessions,
// so none can start in between; then it drops the role. Terminating needs
// superuser or pg_signal_backend; without it the role is left unable to
// log in and the error is ErrDenied.
func (s *pgSession) dropUser(ctx context.Context, name string, _ []string) error {
	q := quotePG(name)
	err := pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		return s.exec(ctx, tx, "ALTER ROLE "+q+" NOLOGIN")
	})
	if pgCode(err) == "42704" {
		return nil // no such role
	}
	if err != nil {
		return pgError(err)
	}
	_, err = s.conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE usename = $1 AND pid <> pg_backend_pid()`, name)
	if err != nil {
		return pgError(err)
	}
	err = pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		for _, stmt := range []string{"REASSIGN OWNED BY " + q + " TO CURRENT_USER", "DROP OWNED BY " + q, "DROP ROLE " + q} {
			if err := s.exec(ctx, tx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if pgCode(err) == "42704" {
		return nil // dropped by someone else meanwhile
	}
	return pgError(err)
}

// grantSQL returns the GRANT statement of p, normalized, to grantee.
func (s *pgSession) grantSQL(p Privilege, grantee string) (string, error) {
	if p.Level != LevelDatabase && p.Database != "" && p.Database != s.db {
		return "", newError("", ErrInvalid, fmt.Errorf(
			"%s on database %q: the admin session is on database %q; open one there", p.Level, p.Database, s.db))
	}
	privs := strings.Join(p.Privileges, ", ")
	var on string
	switch p.Level {
	case LevelDatabase:
		on = "DATABASE " + quotePG(p.Database)
	case LevelSchema:
		on = "SCHEMA " + quotePG(p.Schema)
	case LevelTable:
		on = "TABLE " + quotePG(p.Schema) + "." + quotePG(p.Table)
	case LevelView:
		on = "TABLE " + quotePG(p.Schema) + "." + quotePG(p.Object)
	case LevelSequence:
		on = "SEQUENCE " + quotePG(p.Schema) + "." + quotePG(p.Object)
	case LevelFunction:
		on = "ROUTINE " + quotePG(p.Schema) + "." + quotePG(p.Object)
	case LevelColumn:
		cols := make([]string, len(p.Privileges))
		for i, priv := range p.Privileges {
			cols[i] = priv + " (" + quotePG(p.Column) + ")"
		}
		privs = strings.Join(cols, ", ")
		on = "TABLE " + quotePG(p.Schema) + "." + quotePG(p.Table)
	default:
		return "", newError("", ErrInvalid, fmt.Errorf("level %q", p.Level))
	}
	return "GRANT " + privs + " ON " + on + " TO " + quotePG(grantee), nil
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgError classifies a statement's error; secrets are cut from its text.
func pgError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return newError("", nil, err, secrets...)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if transport(err) || pgconn.SafeToRetry(err) {
			return newError("", ErrUnreachable, err, secrets...)
		}
		return newError("", errFailed, err, secrets...)
	}
	return newError("", pgKind(pe.Code), withDetail(err, pe), secrets...)
}

func pgKind(code string) error {
	switch {
	case code == "42710":
		return ErrExists
	case code == "42704":
		return ErrNotFound
	case code == "42501":
		return ErrDenied
	case strings.HasPrefix(code, "28"):
		return ErrLogin
	case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return ErrUnreachable
	}
	switch code {
	case "3D000", "3F000", "42P01", "42703", "42883", "42725", "42809", "42P17", "22023":
		return ErrInvalid // the request names an object that is not there or not of that kind
	}
	return errFailed
}

// withDetail adds the server's detail to err's text: for a role that still
// owns objects or holds privileges elsewhere, it names them.
func withDetail(err error, pe *pgconn.PgError) error {
	if pe.Detail == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.ReplaceAll(pe.Detail, "\n", "; "))
}
