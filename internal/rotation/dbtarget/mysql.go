package dbtarget

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// mySession is the MySQL and MariaDB side of an Admin. Every statement
// passes user names, hosts and passwords as ? arguments, which the driver
// (InterpolateParams) escapes into string literals in the server's current
// escaping mode; identifiers are quoted with backticks.
type mySession struct {
	db   *sql.DB
	conn *sql.Conn
	// wildcards: database-level grants read their database name as a
	// LIKE pattern (MariaDB; MySQL without partial_revokes), so '_' and
	// '%' in a name are escaped to mean themselves.
	wildcards bool
}

// myConfig builds the driver's configuration from c, with no DSN text
// that could carry the password into an error, and no driver logging.
func myConfig(c Conn) (*mysql.Config, error) {
	tlsCfg, plaintextOK, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = c.User, c.Password, c.Database
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.port()))
	cfg.Timeout = c.timeout()
	cfg.TLS, cfg.AllowFallbackToPlaintext = tlsCfg, tlsCfg != nil && plaintextOK
	cfg.InterpolateParams = true
	cfg.AllowCleartextPasswords, cfg.AllowOldPasswords = false, false
	cfg.Logger = &mysql.NopLogger{}
	return cfg, nil
}

// myConnect opens one connection as c, bounded by c's timeout.
func myConnect(ctx context.Context, c Conn) (*sql.DB, *sql.Conn, error) {
	cfg, err := myConfig(c)
	if err != nil {
		return nil, nil, newError("", ErrInvalid, err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, nil, newError("", ErrInvalid, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	cctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, err := db.Conn(cctx) // dials and logs in
	if err != nil {
		db.Close()
		return nil, nil, myConnectError(err)
	}
	return db, conn, nil
}

// myConnectError classifies a failure to connect and log in.
func myConnectError(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1044, 1045, 1698, 1820, 1862, 3118, 4151: // access denied, password expired, account locked
			return newError("", ErrLogin, err)
		case 1049: // unknown database
			return newError("", ErrInvalid, err)
		}
	}
	return newError("", ErrUnreachable, err)
}

func openMy(ctx context.Context, c Conn) (session, error) {
	db, conn, err := myConnect(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &mySession{db: db, conn: conn, wildcards: true}
	var partial sql.NullInt64
	err = conn.QueryRowContext(ctx, "SELECT @@GLOBAL.partial_revokes").Scan(&partial)
	switch {
	case err == nil:
		s.wildcards = partial.Int64 == 0
	case myNumber(err) != 1193: // 1193: no such variable, as on MariaDB
		s.close()
		return nil, myError(err)
	}
	return s, nil
}

func (s *mySession) close() error {
	err := s.conn.Close()
	if err2 := s.db.Close(); err == nil {
		err = err2
	}
	return err
}

func (s *mySession) exec(ctx context.Context, query string, args ...any) error {
	_, err := s.conn.ExecContext(ctx, query, args...)
	return err
}

// hostsOf returns which of hosts have an account named name.
func (s *mySession) hostsOf(ctx context.Context, name string, hosts []string) (map[string]bool, error) {
	args := []any{name}
	for _, h := range hosts {
		args = append(args, h)
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? AND Host IN (?"+
		strings.Repeat(", ?", len(hosts)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[string]bool)
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		for _, want := range hosts { // Host compares case-insensitively
			if strings.EqualFold(h, want) {
				found[want] = true
			}
		}
	}
	return found, rows.Err()
}

func (s *mySession) userExists(ctx context.Context, name string, hosts []string) (bool, error) {
	found, err := s.hostsOf(ctx, name, accounts(MySQL, hosts))
	return len(found) > 0, myError(err)
}

func (s *mySession) createUser(ctx context.Context, name, password string, hosts []string, privs []Privilege) error {
	hosts = accounts(MySQL, hosts)
	found, err := s.hostsOf(ctx, name, hosts)
	if err != nil {
		return myError(err)
	}
	if len(found) > 0 {
		return newError("", ErrExists, fmt.Errorf("%d of %d accounts exist", len(found), len(hosts)))
	}
	var created []string
	err = func() error {
		for _, h := range hosts {
			if err := s.exec(ctx, "CREATE USER ?@? IDENTIFIED BY ?", name, h, password); err != nil {
				return err
			}
			created = append(created, h)
			for _, p := range privs {
				if err := s.exec(ctx, myGrantSQL(p, s.wildcards), name, h); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	if err != nil {
		s.undo(ctx, name, created)
		if myNumber(err) == 1396 {
			return newError("", ErrExists, err, password)
		}
		return myError(err, password)
	}
	return nil
}

// undo drops the accounts a failed call created, even when ctx is done.
func (s *mySession) undo(ctx context.Context, name string, hosts []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
	defer cancel()
	for _, h := range hosts {
		_ = s.exec(ctx, "DROP USER IF EXISTS ?@?", name, h)
	}
}

func (s *mySession) setPassword(ctx context.Context, name, password string, hosts []string) error {
	hosts = accounts(MySQL, hosts)
	found, err := s.hostsOf(ctx, name, hosts)
	if err != nil {
		return myError(err)
	}
	if len(found) < len(hosts) {
		return newError("", ErrNotFound, fmt.Errorf("%d of %d accounts are missing", len(hosts)-len(found), len(hosts)))
	}
	for _, h := range hosts {
		if err := s.exec(ctx, "ALTER USER ?@? IDENTIFIED BY ?", name, h, password); err != nil {
			if myNumber(err) == 1396 {
				return newError("", ErrNotFound, err, password)
			}
			return myError(err, password)
		}
	}
	return nil
}

// dropUser drops name's account on each host, then, once no account of
// that name is left, kills its sessions, which MySQL leaves running.
func (s *mySession) dropUser(ctx context.Context, name string, hosts []string) error {
	for _, h := range accounts(MySQL, hosts) {
		if err := s.exec(ctx, "DROP USER IF EXISTS ?@?", name, h); err != nil {
			return myError(err)
		}
	}
	var left int
	if err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", name).Scan(&left); err != nil || left > 0 {
		return myError(err)
	}
	return s.killSessions(ctx, name)
}

func (s *mySession) killSessions(ctx context.Context, name string) error {
	rows, err := s.conn.QueryContext(ctx,
		"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()", name)
	if err != nil {
		return myError(err)
	}
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return myError(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return myError(err)
	}
	for _, id := range ids {
		if err := s.exec(ctx, "KILL CONNECTION "+strconv.FormatUint(id, 10)); err != nil && myNumber(err) != 1094 {
			return myError(err) // 1094: the session ended meanwhile
		}
	}
	return nil
}

// myGrantSQL returns the GRANT statement of p, normalized, with two ?
// for the account's user and host.
func myGrantSQL(p Privilege, wildcards bool) string {
	privs := strings.Join(p.Privileges, ", ")
	var on string
	switch p.Level {
	case LevelGlobal:
		on = "*.*"
	case LevelDatabase:
		db := p.Database
		if wildcards {
			db = strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(db)
		}
		on = quoteMy(db) + ".*"
	case LevelTable:
		on = quoteMy(p.Database) + "." + quoteMy(p.Table)
	case LevelColumn:
		cols := make([]string, len(p.Privileges))
		for i, priv := range p.Privileges {
			cols[i] = priv + " (" + quoteMy(p.Column) + ")"
		}
		privs = strings.Join(cols, ", ")
		on = quoteMy(p.Database) + "." + quoteMy(p.Table)
	}
	return "GRANT " + privs + " ON " + on + " TO ?@?"
}

func myNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// myError classifies a statement's error; secrets are cut from its text.
func myError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return newError("", nil, err, secrets...)
	}
	if transport(err) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) {
		return newError("", ErrUnreachable, err, secrets...)
	}
	return newError("", myKind(myNumber(err)), err, secrets...)
}

func myKind(n uint16) error {
	switch n {
	case 1044, 1142, 1143, 1227, 1410, 1045:
		return ErrDenied
	case 1049, 1146, 1054, 1102, 1103, 1166, 1141, 1147, 1470, 1449:
		return ErrInvalid // the request names an object that is not there, or a bad name
	case 1819:
		return ErrInvalid // the server's password policy refuses the password
	case 1040, 1053, 2006, 2013:
		return ErrUnreachable
	}
	return errFailed
}
