package storetest

import (
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func testAccount(t *testing.T, s store.Store) {
	a := &store.Account{ID: acctA, Name: "Acme", CreatedAt: at(0)}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.InsertAccount(t.Context(), a) })
	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.InsertAccount(t.Context(), &store.Account{ID: acctA, Name: "again"})
	})
	wantKind(t, "InsertAccount again", err, fault.Exists)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Account(t.Context(), acctA)
		wantOK(t, "Account", err)
		wantEqual(t, "Account", *got, store.Account{ID: acctA, Name: "Acme", CreatedAt: ms(at(0))})
		_, err = tx.Account(t.Context(), acctB)
		wantKind(t, "Account missing", err, fault.NotFound)
		return nil
	})
}

func testMeta(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Meta(t.Context(), "tls.fingerprint")
		return err
	})
	wantKind(t, "Meta unset", err, fault.NotFound)
	mustUpdate(t, s, func(tx store.Tx) error {
		wantOK(t, "SetMeta", tx.SetMeta(t.Context(), "tls.fingerprint", "aa:bb"))
		wantOK(t, "SetMeta", tx.SetMeta(t.Context(), "root.kcv", ""))
		return tx.SetMeta(t.Context(), "tls.fingerprint", "cc:dd")
	})
	mustView(t, s, func(tx store.Tx) error {
		for key, want := range map[string]string{"tls.fingerprint": "cc:dd", "root.kcv": ""} {
			got, err := tx.Meta(t.Context(), key)
			wantOK(t, "Meta "+key, err)
			wantEqual(t, "Meta "+key, got, want)
		}
		return nil
	})
}

func newAccessKey(id, account, principal string, minute int) *store.AccessKey {
	return &store.AccessKey{ID: id, Account: account, Principal: principal,
		Sealed: []byte{0, 's', 'e', 'a', 'l', 0xff}, Status: store.AccessKeyActive, CreatedAt: at(minute)}
}

func insertAccessKeys(t tb, s store.Store, keys ...*store.AccessKey) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.InsertAccessKey(context.Background(), k); err != nil {
				return err
			}
		}
		return nil
	})
}

func testAccessKey(t *testing.T, s store.Store) {
	k := newAccessKey("AKID1", acctA, acctA, 0)
	insertAccessKeys(t, s, k)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.InsertAccessKey(t.Context(), newAccessKey("AKID1", acctB, acctB, 0))
	})
	wantKind(t, "InsertAccessKey again", err, fault.Exists)

	k.Status, k.LastUsedAt = store.AccessKeyInactive, at(30)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(t.Context(), k) })
	err = s.Update(t.Context(), func(tx store.Tx) error {
		return tx.UpdateAccessKey(t.Context(), newAccessKey("nope", acctA, acctA, 0))
	})
	wantKind(t, "UpdateAccessKey missing", err, fault.NotFound)

	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.AccessKey(t.Context(), "AKID1")
		wantOK(t, "AccessKey", err)
		wantEqual(t, "AccessKey", normAccessKey(got), normAccessKey(k))
		_, err = tx.AccessKey(t.Context(), "nope")
		wantKind(t, "AccessKey missing", err, fault.NotFound)
		return nil
	})
}

func testAccessKeyList(t *testing.T, s store.Store) {
	newer := newAccessKey("AKID1", acctA, acctA, 2)
	older := newAccessKey("AKID2", acctA, acctA, 1)
	insertAccessKeys(t, s, newer, older,
		newAccessKey("AKID3", acctA, "200000000001", 0), // another principal
		newAccessKey("AKID4", acctB, acctA, 0),          // another account
	)
	mustView(t, s, func(tx store.Tx) error {
		keys, err := tx.AccessKeys(t.Context(), acctA, acctA)
		wantOK(t, "AccessKeys", err)
		wantEqual(t, "len(AccessKeys)", len(keys), 2)
		wantEqual(t, "AccessKeys[0]", normAccessKey(keys[0]), normAccessKey(older))
		wantEqual(t, "AccessKeys[1]", normAccessKey(keys[1]), normAccessKey(newer))
		keys, err = tx.AccessKeys(t.Context(), acctB, "nobody")
		wantOK(t, "AccessKeys", err)
		wantEqual(t, "AccessKeys of nobody", len(keys), 0)
		return nil
	})
}
