package dbtarget

import (
	"context"
	"sync"
)

// session is one engine's side of an Admin: an open connection as the
// admin credential. Arguments arrive validated. Errors are *Error values
// (with an empty Op) or causes that the Admin classifies as errFailed.
type session interface {
	createUser(ctx context.Context, name, password string, hosts []string, privs []Privilege) error
	setPassword(ctx context.Context, name, password string, hosts []string) error
	dropUser(ctx context.Context, name string, hosts []string) error
	userExists(ctx context.Context, name string, hosts []string) (bool, error)
	cloneUser(ctx context.Context, from, to, password string, hosts []string) error
	close() error
}

// Admin is a session on a database server as its admin credential, which
// creates, changes and drops other users. It holds one connection and is
// safe for concurrent use; calls run one at a time.
type Admin struct {
	mu     sync.Mutex
	engine string
	s      session
}

// Open logs in with c, the admin credential. On PostgreSQL, c.Database is
// where grants below the database level land, where REASSIGN OWNED and
// DROP OWNED act, and where CloneUser reads privileges. It returns an
// ErrInvalid error for a bad Conn, ErrLogin when the server refuses the
// credential, and ErrUnreachable when the server cannot be reached within
// c.Timeout.
func Open(ctx context.Context, c Conn) (*Admin, error) {
	const op = "Open"
	if err := c.validate(op); err != nil {
		return nil, err
	}
	var (
		s   session
		err error
	)
	if c.Engine == Postgres {
		s, err = openPG(ctx, c)
	} else {
		s, err = openMy(ctx, c)
	}
	if err != nil {
		return nil, newError(op, nil, err, c.Password)
	}
	return &Admin{engine: c.Engine, s: s}, nil
}

// Close ends the session; closing a closed Admin does nothing. It returns
// an ErrUnreachable error when the connection did not close cleanly.
func (a *Admin) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.s == nil {
		return nil
	}
	err := a.s.close()
	a.s = nil
	if err != nil {
		return newError("Close", ErrUnreachable, err)
	}
	return nil
}

// CreateUser creates name with password, able to log in, with privs; on
// MySQL one account 'name'@'host' per host ("%" when hosts is empty). On
// PostgreSQL the role and its grants are created in one transaction; on
// MySQL, whose account statements commit one by one, the accounts made
// before a failure are dropped again. It returns ErrExists when the user
// (on MySQL, any of its accounts) exists, ErrInvalid for a bad argument or
// a grant on an object the server does not know, and ErrDenied when the
// admin may not create users or grant privs.
func (a *Admin) CreateUser(ctx context.Context, name, password string, hosts []string, privs []Privilege) error {
	const op = "CreateUser"
	privs, err := a.check(name, password, hosts, privs)
	if err != nil {
		return newError(op, nil, err)
	}
	return a.run(op, func() error { return a.s.createUser(ctx, name, password, hosts, privs) }, password)
}

// SetPassword sets name's password; on MySQL, on the account of every
// host. Sessions that are logged in keep running. It returns ErrNotFound
// when the user (on MySQL, one of the accounts, in which case none is
// changed) does not exist.
func (a *Admin) SetPassword(ctx context.Context, name, password string, hosts []string) error {
	const op = "SetPassword"
	if _, err := a.check(name, password, hosts, nil); err != nil {
		return newError(op, nil, err)
	}
	return a.run(op, func() error { return a.s.setPassword(ctx, name, password, hosts) }, password)
}

// DropUser drops name (on MySQL, its account for every host) and ends its
// sessions. A user that does not exist is not an error. On PostgreSQL it
// first forbids the role to log in and terminates its sessions, then, in
// one transaction, gives what the role owns in the admin's database to the
// admin (REASSIGN OWNED), revokes its privileges there (DROP OWNED) and
// drops it. Objects or privileges the role holds in other databases make
// the drop fail (kind fault.Internal) with an error that names them; the
// role is then left unable to log in. On MySQL, the sessions of name end
// once no account of that name is left. It returns ErrDenied when the
// admin may not drop the user or end its sessions.
func (a *Admin) DropUser(ctx context.Context, name string, hosts []string) error {
	const op = "DropUser"
	if err := a.checkUser(name, hosts); err != nil {
		return newError(op, nil, err)
	}
	return a.run(op, func() error { return a.s.dropUser(ctx, name, hosts) })
}

// UserExists reports whether name exists: on MySQL, whether any of its
// accounts for hosts does, which is when CreateUser would return
// ErrExists.
func (a *Admin) UserExists(ctx context.Context, name string, hosts []string) (bool, error) {
	const op = "UserExists"
	if err := a.checkUser(name, hosts); err != nil {
		return false, newError(op, nil, err)
	}
	var ok bool
	err := a.run(op, func() (err error) { ok, err = a.s.userExists(ctx, name, hosts); return err })
	return ok, err
}

// CloneUser creates to with password and the privileges and role
// memberships of from: the alternating-users strategy, where two users
// take turns and the one not in use gets the new password. When to exists
// (on MySQL, per account) it only sets its password.
//
// PostgreSQL: to gets from's role attributes (LOGIN always), memberships,
// its privileges on databases, and, in the admin's database, on schemas,
// tables, views, sequences, columns and routines, and the default
// privileges granted to from. Other databases' object privileges, and
// per-role settings (ALTER ROLE … SET), are not copied. MySQL: every line
// of SHOW GRANTS for from's account on each host is granted to to's.
//
// It returns ErrNotFound when from (an account of it) does not exist,
// ErrInvalid for a bad argument, and ErrDenied when the admin may not
// grant what from holds.
func (a *Admin) CloneUser(ctx context.Context, from, to, password string, hosts []string) error {
	const op = "CloneUser"
	if err := ValidateUserName(a.engine, from); err != nil {
		return newError(op, nil, err)
	}
	if from == to {
		return invalid(op, "from and to are the same user")
	}
	if _, err := a.check(to, password, hosts, nil); err != nil {
		return newError(op, nil, err)
	}
	return a.run(op, func() error { return a.s.cloneUser(ctx, from, to, password, hosts) }, password)
}

// run calls f under the lock and wraps its error for op.
func (a *Admin) run(op string, f func() error, secrets ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.s == nil {
		return invalid(op, "admin session is closed")
	}
	if err := f(); err != nil {
		return newError(op, nil, err, secrets...)
	}
	return nil
}

func (a *Admin) check(name, password string, hosts []string, privs []Privilege) ([]Privilege, error) {
	if err := a.checkUser(name, hosts); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	return normalizePrivileges(a.engine, privs)
}

func (a *Admin) checkUser(name string, hosts []string) error {
	if err := ValidateUserName(a.engine, name); err != nil {
		return err
	}
	return ValidateHosts(a.engine, hosts)
}
