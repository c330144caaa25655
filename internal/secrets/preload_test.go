package secrets

import (
	"context"
	"testing"
)

func TestLoadForReadReusesOnlyTheNamedSecret(t *testing.T) {
	sc := Scope{Account: "100000000001", Region: "r1"}
	sec := &Secret{ID: "abcdef123", Name: "db", Account: sc.Account, Region: sc.Region}
	ctx := WithLoaded(context.Background(), sc, "db", sec)
	fresh := 0
	read := func() (*Secret, error) { fresh++; return &Secret{ID: "fresh"}, nil }
	for _, c := range []struct {
		ctx   context.Context
		sc    Scope
		name  string
		reuse bool
	}{
		{ctx, sc, "db", true},
		{WithLoaded(context.Background(), sc, Pin("db", "abc"), sec), sc, Pin("db", "abc"), true},
		{WithLoaded(context.Background(), sc, Pin("db", "zzz"), sec), sc, Pin("db", "zzz"), false}, // another incarnation
		{ctx, sc, "other", false},
		{ctx, Scope{Account: sc.Account, Region: "r2"}, "db", false},
		{context.Background(), sc, "db", false},
	} {
		fresh = 0
		got, err := loadForRead(c.ctx, c.sc, c.name, read)
		if err != nil {
			t.Fatal(err)
		}
		if reused := fresh == 0; reused != c.reuse || (reused && (got == sec || got.ID != sec.ID)) {
			t.Fatalf("%v %q: reused %v (copy %v), want %v", c.sc, c.name, reused, got != sec, c.reuse)
		}
	}
}
