package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func testRollbackOnError(t *testing.T, s store.Store) {
	errStop := errors.New("stop")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		wantOK(t, "InsertSecret", tx.InsertSecret(t.Context(), newSecret("s1", "db")))
		wantOK(t, "SetMeta", tx.SetMeta(t.Context(), "k", "v"))
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update: got %v, want fn's error", err)
	}
	wantNothingPersisted(t, s)
}

// wantNothingPersisted checks that the writes of the rollback tests are gone.
func wantNothingPersisted(t *testing.T, s store.Store) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.SecretByID(t.Context(), "s1")
		wantKind(t, "SecretByID", err, fault.NotFound)
		_, err = tx.Meta(t.Context(), "k")
		wantKind(t, "Meta", err, fault.NotFound)
		return nil
	})
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	// Repeat, so a backend that leaks its connection on panic blocks (and
	// the deadline fails the test) instead of passing once.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for range 3 {
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recover: got %v, want the panic of fn", r)
				}
			}()
			_ = s.Update(ctx, func(tx store.Tx) error {
				wantOK(t, "InsertSecret", tx.InsertSecret(ctx, newSecret("s1", "db")))
				wantOK(t, "SetMeta", tx.SetMeta(ctx, "k", "v"))
				panic("boom")
			})
		}()
	}
	wantNothingPersisted(t, s)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSecret(ctx, newSecret("s2", "db")) })
	wantOK(t, "Update after panics", err)
}

func testReadOwnWrites(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		sec := newSecret("s1", "db")
		wantOK(t, "InsertSecret", tx.InsertSecret(t.Context(), sec))
		got, err := tx.Secret(t.Context(), acctA, regionX, "db")
		wantOK(t, "Secret", err)
		wantSecret(t, "Secret", got, sec)
		v := newVersion("s1", "v1", "AWSCURRENT")
		wantOK(t, "InsertVersion", tx.InsertVersion(t.Context(), v))
		vs, err := tx.Versions(t.Context(), "s1")
		wantOK(t, "Versions", err)
		wantEqual(t, "len(Versions)", len(vs), 1)
		wantVersion(t, "Versions[0]", vs[0], v)
		_, total, err := tx.ListSecrets(t.Context(), store.SecretQuery{Account: acctA, Region: regionX})
		wantOK(t, "ListSecrets", err)
		wantEqual(t, "total", total, 1)
		return nil
	})
}

// testFailedMethodLeavesNoTrace checks that a method that fails inside an
// Update leaves the transaction as it was, so the caller may go on and
// commit: a backend runs each multi-statement method atomically.
func testFailedMethodLeavesNoTrace(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	v1 := newVersion("s1", "v1", "AWSCURRENT", "x")
	insertVersions(t, s, v1, newVersion("s1", "v2", "AWSPENDING"))
	check := func(tx store.Tx) {
		got, err := tx.Version(t.Context(), "s1", "v1")
		wantOK(t, "Version", err)
		wantVersion(t, "v1", got, v1)
		_, err = tx.Version(t.Context(), "s1", "v3")
		wantKind(t, "Version v3", err, fault.NotFound)
		_, err = tx.Key(t.Context(), acctA, regionX, "k1")
		wantKind(t, "Key", err, fault.NotFound)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		change := *v1
		change.Stages, change.Ciphertext = []string{"AWSPENDING"}, []byte("new")
		wantKind(t, "UpdateVersion", tx.UpdateVersion(t.Context(), &change), fault.Exists)
		wantKind(t, "InsertVersion", tx.InsertVersion(t.Context(), newVersion("s1", "v3", "AWSPENDING")), fault.Exists)
		k := newKey("k1", "")
		k.Material = append(k.Material, k.Material[0]) // a repeated material version
		wantKind(t, "InsertKey", tx.InsertKey(t.Context(), k), fault.Exists)
		check(tx)
		return tx.SetMeta(t.Context(), "after", "failures")
	})
	mustView(t, s, func(tx store.Tx) error {
		check(tx)
		got, err := tx.Meta(t.Context(), "after")
		wantOK(t, "Meta", err)
		wantEqual(t, "Meta", got, "failures")
		return nil
	})
}

func testViewReadOnly(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	insertEvents(t, s, newEvent(1, acctA, 0))
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"InsertSecret", func(tx store.Tx) error { return tx.InsertSecret(t.Context(), newSecret("s2", "new")) }},
		{"DeleteSecret", func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "s1") }},
		{"InsertVersion", func(tx store.Tx) error { return tx.InsertVersion(t.Context(), newVersion("s1", "v1")) }},
		{"SetMeta", func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") }},
		{"SetAccessed", func(tx store.Tx) error { return tx.SetAccessed(t.Context(), "s1", at(100)) }},
		{"InsertAccount", func(tx store.Tx) error { return tx.InsertAccount(t.Context(), &store.Account{ID: acctA}) }},
		{"InsertEvents", func(tx store.Tx) error { return tx.InsertEvents(t.Context(), []*store.Event{newEvent(2, acctA, 0)}) }},
		{"SetAuditHead", func(tx store.Tx) error { return tx.SetAuditHead(t.Context(), 1, fakeHash(1)) }},
		{"DeleteEventsThrough", func(tx store.Tx) error {
			_, err := tx.DeleteEventsThrough(t.Context(), 1)
			return err
		}},
		{"InsertCheckpoint", func(tx store.Tx) error { return tx.InsertCheckpoint(t.Context(), newCheckpoint(1)) }},
	}
	for _, w := range writes {
		err := s.View(t.Context(), func(tx store.Tx) error {
			if err := w.fn(tx); err == nil {
				t.Errorf("%s in View: got nil error, want one", w.name)
			}
			return nil
		})
		wantOK(t, "View", err)
	}
	mustView(t, s, func(tx store.Tx) error {
		n, err := tx.CountSecrets(t.Context(), acctA, regionX)
		wantOK(t, "CountSecrets", err)
		wantEqual(t, "secrets", n, 1)
		vs, err := tx.Versions(t.Context(), "s1")
		wantOK(t, "Versions", err)
		wantEqual(t, "versions", len(vs), 0)
		_, err = tx.Account(t.Context(), acctA)
		wantKind(t, "Account", err, fault.NotFound)
		evs, err := tx.Events(t.Context(), store.EventQuery{})
		wantOK(t, "Events", err)
		wantEqual(t, "events", Seqs(evs), []int64{1})
		seq, _, err := tx.AuditHead(t.Context())
		wantOK(t, "AuditHead", err)
		wantEqual(t, "head", seq, int64(0))
		_, err = tx.LatestCheckpoint(t.Context())
		wantKind(t, "LatestCheckpoint", err, fault.NotFound)
		return nil
	})
}

// testConcurrentUpdates has writers read-modify-write one secret under the
// revision check, retrying on Conflict, while readers read it. No update may
// be lost and no caller may see a busy or locked error.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const writers, rounds = 8, 10
	sec := bareSecret("s1", acctA, regionX, "counter")
	sec.Config = "0"
	insertSecrets(t, s, sec)

	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				if err := increment(t.Context(), s, fmt.Sprintf("w%d-r%d", w, r)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() { errs <- readUntil(t.Context(), s, stop) })
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := getSecret(t, s, "s1")
	wantEqual(t, "Revision", got.Revision, int64(writers*rounds))
	wantEqual(t, "counter", got.Config, strconv.Itoa(writers*rounds))
	vs := getVersions(t, s, "s1")
	wantEqual(t, "versions", len(vs), writers*rounds)
	for i := 1; i < len(vs); i++ {
		if vs[i].Seq <= vs[i-1].Seq {
			t.Fatalf("Seq %d: got %d after %d, want increasing", i, vs[i].Seq, vs[i-1].Seq)
		}
	}
}

// increment adds one to the counter in the secret's Config and adds a
// version, retrying on Conflict.
func increment(ctx context.Context, s store.Store, versionID string) error {
	for {
		err := s.Update(ctx, func(tx store.Tx) error {
			sec, err := tx.SecretByID(ctx, "s1")
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(sec.Config)
			if err != nil {
				return err
			}
			sec.Config = strconv.Itoa(n + 1)
			if err := tx.UpdateSecret(ctx, sec); err != nil {
				return err
			}
			return tx.InsertVersion(ctx, &store.Version{SecretID: "s1", ID: versionID})
		})
		if !fault.Is(err, fault.Conflict) {
			return err
		}
	}
}

func readUntil(ctx context.Context, s store.Store, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.SecretByID(ctx, "s1")
			return err
		})
		if err != nil {
			return fmt.Errorf("View during updates: %w", err)
		}
	}
}
