package iam_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

func newService(t *testing.T) *iam.Service {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	root, err := keyfile.Open(filepath.Join(dir, "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	return &iam.Service{Store: st, Root: root}
}

func TestBootstrapGeneratesOnce(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	first, err := s.Bootstrap(ctx, iam.RootInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.Secret == "" || !regexp.MustCompile(`^[1-9][0-9]{11}$`).MatchString(first.AccountID) || !strings.HasPrefix(first.KeyID, "AKID") {
		t.Fatalf("first bootstrap = %+v", first)
	}
	second, err := s.Bootstrap(ctx, iam.RootInput{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Generated || second.Secret != "" || second.KeyID != first.KeyID || second.AccountID != first.AccountID {
		t.Fatalf("second bootstrap = %+v, want the same key without its secret", second)
	}
	c, err := s.Lookup(ctx, first.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Secret()) != first.Secret || c.Principal.Account != first.AccountID || c.Principal.Kind != iam.KindRoot {
		t.Fatalf("lookup = %v %+v", c, c.Principal)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%#v", c), fmt.Sprint(first)} {
		if strings.Contains(s, first.Secret) {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestBootstrapFromEnvironment(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	in := iam.RootInput{AccountID: "100000000001", KeyID: "AKIDfixed", Secret: "fixed-secret"}
	out, err := s.Bootstrap(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Generated || out.Secret != "" || out.AccountID != in.AccountID {
		t.Fatalf("bootstrap = %+v; a given secret is not echoed", out)
	}
	if _, err := s.Bootstrap(ctx, in); err != nil {
		t.Fatalf("same input again: %v", err)
	}
	if _, err := s.Bootstrap(ctx, iam.RootInput{KeyID: in.KeyID, Secret: in.Secret}); err != nil {
		t.Fatalf("same key without an account id: %v", err)
	}
	for _, bad := range []iam.RootInput{
		{AccountID: in.AccountID, KeyID: in.KeyID, Secret: "other"},
		{AccountID: "100000000002", KeyID: in.KeyID, Secret: in.Secret},
	} {
		if _, err := s.Bootstrap(ctx, bad); err == nil || strings.Contains(err.Error(), bad.Secret) {
			t.Fatalf("bootstrap %s/%s: %v; want an error without the secret", bad.AccountID, bad.KeyID, err)
		}
	}
}

func TestLookupRefuses(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.Lookup(ctx, "AKIDnope"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown key: %v, want NotFound", err)
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		return tx.InsertAccessKey(ctx, &store.AccessKey{ID: "AKIDoff", Account: "1", Principal: "1", Sealed: []byte("x"), Status: store.AccessKeyInactive})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, "AKIDoff"); !fault.Is(err, fault.Denied) {
		t.Fatalf("inactive key: %v, want Denied", err)
	}
}

// TestLookupOnLookup: the first look-up of a key misses the cache, the
// next ones hit it.
func TestLookupOnLookup(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	rc, err := s.Bootstrap(ctx, iam.RootInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	s.OnLookup = func(hit bool) { got = append(got, hit) }
	for range 3 {
		if _, err := s.Lookup(ctx, rc.KeyID); err != nil {
			t.Fatal(err)
		}
	}
	if want := []bool{false, true, true}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("look-ups %v, want %v", got, want)
	}
}
