package dbtarget_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

// hostile is text written to break out of a quoted name or literal.
const hostile = "a'; DROP USER root; -- \"`\\ ?#/*"

func TestHostileNamesRefused(t *testing.T) {
	for _, engine := range []string{dbtarget.Postgres, dbtarget.MySQL} {
		for _, name := range []string{hostile, "a'b", "a`b", `a"b`, "a b", "a\\b", "a;b", "a\x00b", "ä", "1a", ""} {
			if err := dbtarget.ValidateUserName(engine, name); !errors.Is(err, dbtarget.ErrInvalid) {
				t.Errorf("ValidateUserName(%s, %q) = %v, want ErrInvalid", engine, name, err)
			}
		}
		for _, host := range []string{hostile, "%'", "a`b", `a"b`, "a b", "a\\b", "", "a\x00"} {
			if err := dbtarget.ValidateHosts(engine, []string{host}); !errors.Is(err, dbtarget.ErrInvalid) {
				t.Errorf("ValidateHosts(%s, %q) = %v, want ErrInvalid", engine, host, err)
			}
		}
	}
}

// TestHostileObjectNames grants on a table whose name is hostile, with a
// hostile password: quoting must make both harmless and exact.
func TestHostileObjectNames(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		table := "ct_" + hostile
		if err := s.raw(ctx, "CREATE TABLE "+s.quote(table)+" (id int)"); err != nil {
			t.Fatalf("CREATE TABLE: %v", err)
		}
		t.Cleanup(func() { s.raw(context.Background(), "DROP TABLE IF EXISTS "+s.quote(table)) })
		privs := s.selectPrivs()
		privs[len(privs)-1].Table = table
		a := s.open(t)
		name, pw := s.newUser(t), hostile+randomHex(4)
		s.mustCreate(t, a, name, pw, privs)

		mustLogin(t, s.login(name, pw))
		if err := s.selectTable(ctx, s.login(name, pw), table); err != nil {
			t.Fatalf("SELECT from the hostile table: %v", err)
		}
		if err := s.selectTable(ctx, s.login(name, pw), s.table); err == nil {
			t.Fatalf("SELECT from %s, which was not granted, succeeded", s.table)
		}
		pw2 := strings.Repeat(`\'`, 8) + randomHex(4)
		if err := a.SetPassword(ctx, name, pw2, s.hosts); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		mustLogin(t, s.login(name, pw2))
		mustRefuse(t, s.login(name, pw))
		mustLogin(t, s.admin) // the admin is still there
	})
}

// TestHostilePrivilegeKeyword: only allowlisted keywords reach a statement.
func TestHostilePrivilegeKeyword(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		a := s.open(t)
		privs := s.selectPrivs()
		privs[0].Privileges = []string{"SELECT ON *.* TO root; --"}
		name, pw := s.newUser(t), password()
		err := a.CreateUser(context.Background(), name, pw, s.hosts, privs)
		if !errors.Is(err, dbtarget.ErrInvalid) {
			t.Fatalf("CreateUser with a hostile privilege: %v, want ErrInvalid", err)
		}
		noSecret(t, err, pw)
		if ok, err := a.UserExists(context.Background(), name, s.hosts); err != nil || ok {
			t.Fatalf("UserExists = %t, %v; want false, nil", ok, err)
		}
	})
}
