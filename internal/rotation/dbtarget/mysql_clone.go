package dbtarget

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// cloneUser gives to, on each host, from's account: its TLS requirement and
// resource limits, and every grant SHOW GRANTS lists for it. Accounts of
// to that exist only get the new password. Before changing anything it
// checks that from has an account wherever to lacks one.
func (s *mySession) cloneUser(ctx context.Context, from, to, password string, hosts []string) error {
	hosts = accounts(MySQL, hosts)
	have, err := s.hostsOf(ctx, to, hosts)
	if err != nil {
		return myError(err)
	}
	src, err := s.hostsOf(ctx, from, hosts)
	if err != nil {
		return myError(err)
	}
	for _, h := range hosts {
		if !have[h] && !src[h] {
			return newError("", ErrNotFound, fmt.Errorf("user to clone %q has no account for host %q", from, h))
		}
	}
	for _, h := range hosts {
		if have[h] {
			err = s.exec(ctx, "ALTER USER ?@? IDENTIFIED BY ?", to, h, password)
		} else {
			err = s.cloneAccount(ctx, from, to, h, password)
		}
		if err != nil {
			return myError(err, password)
		}
	}
	return nil
}

func (s *mySession) cloneAccount(ctx context.Context, from, to, host, password string) error {
	lines, err := s.showGrants(ctx, from, host)
	if err != nil {
		return err
	}
	stmts := make([]string, len(lines))
	for i, line := range lines {
		if stmts[i], err = myRetarget(line, from, to, host); err != nil {
			return newError("", errFailed, fmt.Errorf("SHOW GRANTS line %d: %w", i+1, err))
		}
	}
	opts, args, err := s.accountOptions(ctx, from, host)
	if err != nil {
		return err
	}
	if err := s.exec(ctx, "CREATE USER ?@? IDENTIFIED BY ?"+opts, append([]any{to, host, password}, args...)...); err != nil {
		return err
	}
	for _, stmt := range stmts {
		if err := s.exec(ctx, stmt); err != nil {
			s.undo(ctx, to, []string{host})
			return err
		}
	}
	return nil
}

func (s *mySession) showGrants(ctx context.Context, name, host string) ([]string, error) {
	rows, err := s.conn.QueryContext(ctx, "SHOW GRANTS FOR ?@?", name, host)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	return lines, rows.Err()
}

// accountOptions returns the REQUIRE and WITH clauses of CREATE USER that
// give an account the TLS requirement and resource limits of name@host,
// with ? for the certificate fields, and their arguments. SHOW GRANTS
// shows these only on MariaDB, and mixed with the password hash, so they
// are read from mysql.user instead.
func (s *mySession) accountOptions(ctx context.Context, name, host string) (string, []any, error) {
	var (
		sslType, cipher, issuer, subject string
		limits                           [4]int64
	)
	err := s.conn.QueryRowContext(ctx, `SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject,
		max_questions, max_updates, max_connections, max_user_connections
		FROM mysql.user WHERE User = ? AND Host = ?`, name, host).
		Scan(&sslType, &cipher, &issuer, &subject, &limits[0], &limits[1], &limits[2], &limits[3])
	if err != nil {
		return "", nil, err
	}
	var opts string
	var args []any
	switch strings.ToUpper(sslType) {
	case "ANY":
		opts = " REQUIRE SSL"
	case "X509":
		opts = " REQUIRE X509"
	case "SPECIFIED":
		var parts []string
		for _, f := range []struct{ kw, v string }{{"ISSUER", issuer}, {"SUBJECT", subject}, {"CIPHER", cipher}} {
			if f.v != "" {
				parts, args = append(parts, f.kw+" ?"), append(args, f.v)
			}
		}
		opts = " REQUIRE SSL"
		if len(parts) > 0 {
			opts = " REQUIRE " + strings.Join(parts, " AND ")
		}
	}
	var with []string
	for i, kw := range []string{"MAX_QUERIES_PER_HOUR", "MAX_UPDATES_PER_HOUR", "MAX_CONNECTIONS_PER_HOUR", "MAX_USER_CONNECTIONS"} {
		if limits[i] != 0 {
			with = append(with, kw+" "+strconv.FormatInt(limits[i], 10))
		}
	}
	if len(with) > 0 {
		opts += " WITH " + strings.Join(with, " ")
	}
	return opts, args, nil
}

// myRetarget rewrites one line of SHOW GRANTS for from@host into the same
// grant (or revoke, or default role) for to@host. Whatever follows the
// account (MariaDB's IDENTIFIED BY PASSWORD, REQUIRE, limits) is dropped
// but the grant and admin options. The account is found by its last
// occurrence: every object name comes before it, and what follows it
// names no account, so a name that spells out the account cannot be taken
// for it.
func myRetarget(line, from, to, host string) (string, error) {
	src := quoteMy(from) + "@" + quoteMy(host)
	var kw string
	switch {
	case strings.HasPrefix(line, "GRANT "):
		kw = " TO "
	case strings.HasPrefix(line, "REVOKE "):
		kw = " FROM "
	case strings.HasPrefix(line, "SET DEFAULT ROLE "):
		kw = " FOR "
	default:
		return "", fmt.Errorf("not a GRANT, REVOKE or SET DEFAULT ROLE statement")
	}
	i := strings.LastIndex(line, kw+src)
	if i < 0 {
		return "", fmt.Errorf("does not name the account being cloned")
	}
	rest := line[i+len(kw+src):]
	out := line[:i] + kw + quoteMy(to) + "@" + quoteMy(host)
	for _, opt := range []string{" WITH GRANT OPTION", " WITH ADMIN OPTION"} {
		if strings.Contains(rest, opt) {
			out += opt
		}
	}
	return out, nil
}
