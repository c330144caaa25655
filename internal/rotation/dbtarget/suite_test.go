package dbtarget_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

// The suite every engine passes: the same calls, the same answers.

func TestUserLifecycle(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		a := s.open(t)
		name, pw := s.newUser(t), password()

		s.mustCreate(t, a, name, pw, s.selectPrivs())
		mustLogin(t, s.login(name, pw))
		if err := s.selectTable(ctx, s.login(name, pw), s.table); err != nil {
			t.Fatalf("SELECT as the new user: %v", err)
		}
		mustRefuse(t, s.login(name, pw+"x"))
		mustRefuse(t, s.login(name, ""))

		err := a.CreateUser(ctx, name, pw, s.hosts, nil)
		if !errors.Is(err, dbtarget.ErrExists) {
			t.Fatalf("CreateUser of an existing user: %v, want ErrExists", err)
		}
		noSecret(t, err, pw)
		if ok, err := a.UserExists(ctx, name, s.hosts); err != nil || !ok {
			t.Fatalf("UserExists = %t, %v; want true, nil", ok, err)
		}

		pw2 := password()
		if err := a.SetPassword(ctx, name, pw2, s.hosts); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		mustLogin(t, s.login(name, pw2))
		mustRefuse(t, s.login(name, pw))

		if err := a.DropUser(ctx, name, s.hosts); err != nil {
			t.Fatalf("DropUser: %v", err)
		}
		mustRefuse(t, s.login(name, pw2))
		if ok, err := a.UserExists(ctx, name, s.hosts); err != nil || ok {
			t.Fatalf("UserExists after DropUser = %t, %v; want false, nil", ok, err)
		}
		if err := a.DropUser(ctx, name, s.hosts); err != nil {
			t.Fatalf("DropUser of a missing user: %v, want nil", err)
		}
		err = a.SetPassword(ctx, name, pw2, s.hosts)
		if !errors.Is(err, dbtarget.ErrNotFound) {
			t.Fatalf("SetPassword of a missing user: %v, want ErrNotFound", err)
		}
		noSecret(t, err, pw2)
	})
}

func TestDropUserEndsSessions(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		a := s.open(t)
		name, pw := s.newUser(t), password()
		s.mustCreate(t, a, name, pw, s.selectPrivs())
		run, done, err := s.session(ctx, s.login(name, pw))
		if err != nil {
			t.Fatalf("log in: %v", err)
		}
		defer done()
		if err := run("SELECT 1"); err != nil {
			t.Fatalf("SELECT 1 before the drop: %v", err)
		}
		pw2 := password()
		if err := a.SetPassword(ctx, name, pw2, s.hosts); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		if err := run("SELECT 1"); err != nil {
			t.Fatalf("SELECT 1 after a password change: %v, want the session to live on", err)
		}
		if err := a.DropUser(ctx, name, s.hosts); err != nil {
			t.Fatalf("DropUser: %v", err)
		}
		if err := run("SELECT 1"); err == nil {
			t.Fatal("the dropped user's session still runs statements")
		}
	})
}

func TestCloneUser(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		a := s.open(t)
		from, to := s.newUser(t), s.newUser(t)
		fromPW, toPW := password(), password()
		s.mustCreate(t, a, from, fromPW, s.selectPrivs())

		if err := a.CloneUser(ctx, from, to, toPW, s.hosts); err != nil {
			t.Fatalf("CloneUser: %v", err)
		}
		mustLogin(t, s.login(to, toPW))
		// On PostgreSQL this also shows that the clone is in ct_scram.
		mustRefuse(t, s.login(to, fromPW))
		if err := s.selectTable(ctx, s.login(to, toPW), s.table); err != nil {
			t.Fatalf("SELECT as the clone: %v", err)
		}
		mustLogin(t, s.login(from, fromPW))

		toPW2 := password()
		if err := a.CloneUser(ctx, from, to, toPW2, s.hosts); err != nil {
			t.Fatalf("CloneUser onto an existing user: %v", err)
		}
		mustLogin(t, s.login(to, toPW2))
		mustRefuse(t, s.login(to, toPW))

		missing, other := "ct_missing"+randomHex(4), s.newUser(t)
		err := a.CloneUser(ctx, missing, other, toPW, s.hosts)
		if !errors.Is(err, dbtarget.ErrNotFound) {
			t.Fatalf("CloneUser from a missing user: %v, want ErrNotFound", err)
		}
		noSecret(t, err, toPW)
		if ok, err := a.UserExists(ctx, other, s.hosts); err != nil || ok {
			t.Fatalf("UserExists after a failed clone = %t, %v; want false, nil", ok, err)
		}
	})
}

func TestSetOwnPassword(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		a := s.open(t)
		name, pw, pw2 := s.newUser(t), password(), password()
		s.mustCreate(t, a, name, pw, s.selectPrivs())

		if err := dbtarget.SetOwnPassword(ctx, s.login(name, pw), pw2); err != nil {
			t.Fatalf("SetOwnPassword: %v", err)
		}
		mustLogin(t, s.login(name, pw2))
		mustRefuse(t, s.login(name, pw))

		pw3 := password()
		err := dbtarget.SetOwnPassword(ctx, s.login(name, pw), pw3)
		if !errors.Is(err, dbtarget.ErrLogin) {
			t.Fatalf("SetOwnPassword with a stale password: %v, want ErrLogin", err)
		}
		noSecret(t, err, pw, pw3)
		mustLogin(t, s.login(name, pw2))
	})
}

func TestGrantOnMissingObject(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		a := s.open(t)
		name, pw := s.newUser(t), password()
		privs := s.selectPrivs()
		privs[len(privs)-1].Table = "ct_no_such_table"
		err := a.CreateUser(ctx, name, pw, s.hosts, privs)
		if !errors.Is(err, dbtarget.ErrInvalid) {
			t.Fatalf("CreateUser granting on a missing table: %v, want ErrInvalid", err)
		}
		noSecret(t, err, pw)
		if ok, err := a.UserExists(ctx, name, s.hosts); err != nil || ok {
			t.Fatalf("UserExists after a failed CreateUser = %t, %v; want false, nil", ok, err)
		}
	})
}

func TestAdminLoginRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server) {
		name, pw := s.newUser(t), password()
		a := s.open(t)
		s.mustCreate(t, a, name, pw, s.selectPrivs())
		_, err := dbtarget.Open(context.Background(), s.login(name, "bad"+pw))
		if !errors.Is(err, dbtarget.ErrLogin) {
			t.Fatalf("Open with a wrong password: %v, want ErrLogin", err)
		}
		noSecret(t, err, pw)
	})
}
