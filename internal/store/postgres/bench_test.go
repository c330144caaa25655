package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
)

// benchDB returns a store holding n secrets, each with two tags and one
// version labelled AWSCURRENT. The schema is a new one: a reused one would
// carry the dead rows of the benchmarks before.
func benchDB(b *testing.B, n int) store.Store {
	b.Helper()
	var s store.Store = MustOpen(b, freshSchema(b))
	err := s.Update(b.Context(), func(tx store.Tx) error {
		for i := range n {
			id := fmt.Sprintf("id-%d", i)
			sec := &store.Secret{ID: id, Account: "1", Region: "r",
				Name: fmt.Sprintf("secret-%d", i), Status: store.StatusEnabled, CreatedAt: time.UnixMilli(int64(i)),
				Tags: []store.Tag{{Key: "env", Value: "prod"}, {Key: "n", Value: fmt.Sprint(i)}}}
			if err := tx.InsertSecret(b.Context(), sec); err != nil {
				return err
			}
			v := &store.Version{SecretID: id, ID: "v1", Stages: []string{"AWSCURRENT"},
				Ciphertext: make([]byte, 64), WrappedKey: make([]byte, 48)}
			if err := tx.InsertVersion(b.Context(), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("Update: %v", err)
	}
	// Statistics, as autovacuum gathers them on a live database: without
	// them the planner takes each table for a page of rows.
	if _, err := database(b).Exec(b.Context(), "ANALYZE"); err != nil {
		b.Fatalf("ANALYZE: %v", err)
	}
	return s
}

// view runs fn in a View and fails the benchmark on error.
func view(b *testing.B, s store.Store, fn func(tx store.Tx) error) {
	if err := s.View(b.Context(), fn); err != nil {
		b.Fatalf("View: %v", err)
	}
}

func BenchmarkSecretByName(b *testing.B) {
	s := benchDB(b, 1000)
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("secret-%d", i%1000)
		i++
		view(b, s, func(tx store.Tx) error {
			_, err := tx.Secret(b.Context(), "1", "r", name)
			return err
		})
	}
}

// BenchmarkGetSecretValue reads what a GetSecretValue call reads: the
// secret by name, then its AWSCURRENT version, in one View.
func BenchmarkGetSecretValue(b *testing.B) {
	s := benchDB(b, 1000)
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("secret-%d", i%1000)
		i++
		view(b, s, func(tx store.Tx) error {
			sec, err := tx.Secret(b.Context(), "1", "r", name)
			if err != nil {
				return err
			}
			_, err = tx.VersionByStage(b.Context(), sec.ID, "AWSCURRENT")
			return err
		})
	}
}

// BenchmarkListSecrets reads a page half-way through by Offset, with a tag
// filter and the count: the Tencent listing.
func BenchmarkListSecrets(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, Offset: 500,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}}
	for b.Loop() {
		view(b, s, func(tx store.Tx) error {
			_, _, err := tx.ListSecrets(b.Context(), q)
			return err
		})
	}
}

// BenchmarkListSecretsAfter reads a page half-way through by keyset cursor
// and without a count: the AWS listing.
func BenchmarkListSecretsAfter(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, SortBy: store.SortName, NoTotal: true,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}, After: &store.Cursor{Name: "secret-500"}}
	for b.Loop() {
		view(b, s, func(tx store.Tx) error {
			_, _, err := tx.ListSecrets(b.Context(), q)
			return err
		})
	}
}

// BenchmarkInsertVersion measures one write transaction (lock, insert,
// commit) holding one version with a stage.
func BenchmarkInsertVersion(b *testing.B) {
	s := benchDB(b, 1)
	i := 0
	for b.Loop() {
		v := &store.Version{SecretID: "id-0", ID: fmt.Sprintf("v%d", i+2), Ciphertext: make([]byte, 64),
			WrappedKey: make([]byte, 48), Stages: []string{fmt.Sprintf("stage-%d", i)}}
		i++
		if err := s.Update(b.Context(), func(tx store.Tx) error { return tx.InsertVersion(b.Context(), v) }); err != nil {
			b.Fatalf("Update: %v", err)
		}
	}
}

// BenchmarkInsertEvents measures one write transaction holding a batch of
// audit events, as the audit writer's group commit makes them.
func BenchmarkInsertEvents(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchDB(b, 0)
			seq, commits := int64(0), 0
			for b.Loop() {
				evs := make([]*store.Event, batch)
				for i := range evs {
					seq++
					evs[i] = benchEvent(seq)
				}
				if err := s.Update(b.Context(), func(tx store.Tx) error { return tx.InsertEvents(b.Context(), evs) }); err != nil {
					b.Fatalf("Update: %v", err)
				}
				commits++
			}
			b.ReportMetric(float64(commits*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchEvent returns an event of the size a GetSecretValue call records.
func benchEvent(seq int64) *store.Event {
	return &store.Event{Seq: seq, Time: time.UnixMilli(1.7e12 + seq), Account: "100000000001",
		PrincipalID: "200000000001", PrincipalName: "deployer", PrincipalKind: "user",
		AccessKeyID: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", SourceIP: "10.0.3.17",
		UserAgent: "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.26", Region: "ap-guangzhou",
		Family: "secretsmanager", Action: "GetSecretValue", ReadOnly: true,
		Resource: fmt.Sprintf("app/db-%d", seq%50), VersionID: "3f0d2c1e-9a8b-4c7d-8e6f-5a4b3c2d1e0f",
		RequestID: fmt.Sprintf("8c3f1b2a-%012d", seq),
		Params:    `{"SecretId":"app/db","VersionStage":"AWSCURRENT"}`,
		PrevHash:  make([]byte, 32), Hash: make([]byte, 32)}
}

// BenchmarkAuditWriter measures audited calls through the audit writer over
// PostgreSQL: the writer commits what queued while the last batch was
// written, in one transaction under the write lock (storetest.AuditWriter).
func BenchmarkAuditWriter(b *testing.B) {
	storetest.AuditWriter(b, MustOpen(b, freshSchema(b)))
}
