package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/coffer-secrets/coffer/internal/store"
)

// benchDB returns a database holding n secrets, each with two tags.
func benchDB(b *testing.B, n int) store.Store {
	b.Helper()
	var s store.Store = MustOpen(b, filepath.Join(b.TempDir(), "coffer.db"))
	err := s.Update(b.Context(), func(tx store.Tx) error {
		for i := range n {
			sec := &store.Secret{ID: fmt.Sprintf("id-%d", i), Account: "1", Region: "r",
				Name: fmt.Sprintf("secret-%d", i), Status: store.StatusEnabled,
				Tags: []store.Tag{{Key: "env", Value: "prod"}, {Key: "n", Value: fmt.Sprint(i)}}}
			if err := tx.InsertSecret(b.Context(), sec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("Update: %v", err)
	}
	return s
}

func BenchmarkSecretByName(b *testing.B) {
	s := benchDB(b, 1000)
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("secret-%d", i%1000)
		i++
		err := s.View(b.Context(), func(tx store.Tx) error {
			_, err := tx.Secret(b.Context(), "1", "r", name)
			return err
		})
		if err != nil {
			b.Fatalf("View: %v", err)
		}
	}
}

// BenchmarkInsertVersion measures one durable commit (synchronous=FULL)
// holding one version with a stage.
func BenchmarkInsertVersion(b *testing.B) {
	s := benchDB(b, 1)
	i := 0
	for b.Loop() {
		v := &store.Version{SecretID: "id-0", ID: fmt.Sprintf("v%d", i), Ciphertext: make([]byte, 64),
			WrappedKey: make([]byte, 48), Stages: []string{fmt.Sprintf("stage-%d", i)}}
		i++
		if err := s.Update(b.Context(), func(tx store.Tx) error { return tx.InsertVersion(b.Context(), v) }); err != nil {
			b.Fatalf("Update: %v", err)
		}
	}
}

func BenchmarkListSecrets(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, Offset: 500,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}}
	for b.Loop() {
		err := s.View(b.Context(), func(tx store.Tx) error {
			_, _, err := tx.ListSecrets(b.Context(), q)
			return err
		})
		if err != nil {
			b.Fatalf("View: %v", err)
		}
	}
}

// BenchmarkListSecretsAfter reads a page half-way through, as
// BenchmarkListSecrets does, by keyset cursor instead of Offset and
// without a count: the AWS listing.
func BenchmarkListSecretsAfter(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, SortBy: store.SortName, NoTotal: true,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}, After: &store.Cursor{Name: "secret-500"}}
	for b.Loop() {
		err := s.View(b.Context(), func(tx store.Tx) error {
			_, _, err := tx.ListSecrets(b.Context(), q)
			return err
		})
		if err != nil {
			b.Fatalf("View: %v", err)
		}
	}
}
