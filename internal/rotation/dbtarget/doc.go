// Package dbtarget is the database side of credential rotation: it creates,
// re-passwords, clones and drops real users on PostgreSQL and on MySQL or
// MariaDB, and tests that a credential logs in. It owns the SQL of those
// statements and the mapping of server errors onto a few kinds (ErrExists,
// ErrLogin, …); which user to rotate, and when, is the caller's business.
//
// # Strategies
//
// Single user: SetOwnPassword logs in with the current credential and
// changes its own password. Alternating users: an Admin session clones the
// user in use (CloneUser) and from then on sets the password of whichever
// of the two is idle (SetPassword, or CloneUser again). Both are checked
// with TestLogin.
//
// # Secrets
//
// Passwords never appear in an error's text nor in a log: Conn prints with
// the password redacted, the driver's logger is silenced, and every error
// is scrubbed of the passwords (and verifiers) its operation handled, since
// a server's syntax error may quote the statement. On PostgreSQL the
// password never reaches the server at all: the client computes the
// SCRAM-SHA-256 verifier (RFC 5802, RFC 7677; 16 random bytes of salt, 4096
// iterations) and sends that, so statement logs and pg_stat_statements
// hold no plaintext. MySQL has no such form that every server and
// authentication plugin accepts, so the password travels as a string
// literal that the driver escapes (interpolateParams); use TLS, and keep
// the general log off. Passwords are printable ASCII (ValidatePassword),
// which every client hashes the same way.
//
// # Hosts
//
// A MySQL user is one account 'name'@'host' per host, and every operation
// acts on the accounts of the hosts it is given ("%" when none). A
// PostgreSQL role has no host: the hosts are validated, so one request
// suits both engines, and then ignored; pg_hba.conf decides where a role
// may log in from.
//
// # Sessions
//
// Changing a password leaves logged-in sessions running, as rotation
// wants. Dropping a user ends them: on PostgreSQL the role is first made
// NOLOGIN, then its sessions are terminated (pg_terminate_backend, which
// needs superuser or pg_signal_backend), then REASSIGN OWNED BY it TO the
// admin, DROP OWNED BY it and DROP ROLE run in one transaction in the
// admin's database. Objects or privileges the role holds in other
// databases make the drop fail, naming them. On MySQL the sessions are
// killed once no account of the name is left.
//
// # Admin privileges
//
// PostgreSQL: CREATEROLE and grant options on the objects granted, or
// superuser (REASSIGN OWNED and ALTER DEFAULT PRIVILEGES FOR ROLE need
// membership in the roles concerned). A GRANT the server answers with "no
// privileges were granted" is an ErrDenied error. MySQL: CREATE USER, the
// privileges granted WITH GRANT OPTION, SELECT on mysql.user, and PROCESS
// with CONNECTION_ADMIN or SUPER to find and kill sessions (without them,
// sessions of other users are not seen and go on).
//
// # Tests
//
// The tests run against real servers: PostgreSQL at $COFFER_TEST_POSTGRES
// (default postgres://postgres@127.0.0.1:5432/postgres) and MySQL or
// MariaDB at $COFFER_TEST_MYSQL (default root@tcp(127.0.0.1:3306)/). They
// skip when a server is unreachable, and fail instead with CI=true. They
// create only names that start with ct_, and drop them when done.
//
// A password test means something only if the server checks passwords,
// and a development PostgreSQL often trusts every local TCP login. The
// tests find out with a probe role that logs in with a wrong password. If
// it gets in, and the server's pg_hba.conf is a local file the tests may
// write, they put these lines at its top, once (they are recognized by
// their comment), and reload the configuration:
//
//	# coffer internal/rotation/dbtarget tests: members of role ct_scram log in with a password
//	host all +ct_scram 127.0.0.1/32 scram-sha-256
//	host all +ct_scram ::1/128 scram-sha-256
//
// and make every test user a member of ct_scram, a NOLOGIN role with no
// privileges that stays in place. A group rather than a name pattern,
// because PostgreSQL before 16 has no regular expressions in pg_hba.conf.
// Every other role, postgres included, keeps the rules it had: a superuser
// is not taken for a member of a group it was not granted.
package dbtarget
