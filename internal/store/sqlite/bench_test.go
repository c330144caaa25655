package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
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

// BenchmarkVersionList measures the full version list (Describe, label
// moves) and the labels and count a put and a version delete read: ten
// versions of a 1 KiB sealed value, two of them labeled, among 100 secrets.
func BenchmarkVersionList(b *testing.B) {
	s := benchDB(b, 100)
	err := s.Update(b.Context(), func(tx store.Tx) error {
		for i := range 100 {
			for j := range 10 {
				v := &store.Version{SecretID: fmt.Sprintf("id-%d", i), ID: fmt.Sprintf("v%d", j),
					Ciphertext: make([]byte, 1024+28), WrappedKey: make([]byte, 60), KeyID: "k", Token: fmt.Sprintf("t%d", j)}
				switch j {
				case 8:
					v.Stages = []string{"AWSPREVIOUS"}
				case 9:
					v.Stages = []string{"AWSCURRENT"}
				}
				if err := tx.InsertVersion(b.Context(), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("Update: %v", err)
	}
	// Each op reads all 100 secrets in one read transaction, as the
	// writer reads inside its open transaction: read-read is one read.
	view := func(b *testing.B, read func(tx store.Tx, id string) error) {
		for b.Loop() {
			err := s.View(b.Context(), func(tx store.Tx) error {
				for i := range 100 {
					if err := read(tx, fmt.Sprintf("id-%d", i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatalf("View: %v", err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/read")
	}
	b.Run("all", func(b *testing.B) {
		view(b, func(tx store.Tx, id string) error {
			vs, err := tx.VersionList(b.Context(), id)
			if err == nil && len(vs) != 10 {
				err = fmt.Errorf("%d versions, want 10", len(vs))
			}
			return err
		})
	})
	b.Run("holders", func(b *testing.B) {
		view(b, func(tx store.Tx, id string) error {
			vs, n, err := tx.StageHolders(b.Context(), id)
			if err == nil && (len(vs) != 2 || n != 10) {
				err = fmt.Errorf("%d labeled of %d versions, want 2 of 10", len(vs), n)
			}
			return err
		})
	})
}

// benchList runs ListSecrets q in a read transaction, b.N times.
func benchList(b *testing.B, s store.Store, q store.SecretQuery) {
	b.Helper()
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

func BenchmarkListSecrets(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, Offset: 500,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}}
	benchList(b, s, q)
}

// BenchmarkListSecretsAfter reads a page half-way through, as
// BenchmarkListSecrets does, by keyset cursor instead of Offset and
// without a count: the AWS listing.
func BenchmarkListSecretsAfter(b *testing.B) {
	s := benchDB(b, 1000)
	q := store.SecretQuery{Account: "1", Region: "r", Limit: 20, SortBy: store.SortName, NoTotal: true,
		Tags: []store.TagFilter{{Key: "env", Values: []string{"prod"}}}, After: &store.Cursor{Name: "secret-500"}}
	benchList(b, s, q)
}

// BenchmarkInsertEvents measures one commit holding a batch of audit
// events, as the audit writer's group commit makes them: one event (a
// quiet server), 8 (32 connections reading) and 64 (a busy one); durable,
// and unsynced as the writer commits them before its flush (the CPU side
// alone, which the disk's sync does not blur).
func BenchmarkInsertEvents(b *testing.B) {
	for _, c := range []struct {
		batch    int
		unsynced bool
	}{{1, false}, {8, false}, {64, false}, {8, true}, {64, true}} {
		name := fmt.Sprintf("batch=%d", c.batch)
		if c.unsynced {
			name = "unsynced/" + name
		}
		b.Run(name, func(b *testing.B) {
			s := benchDB(b, 0)
			update := s.Update
			if c.unsynced {
				update = s.(store.Syncer).UpdateUnsynced
			}
			seq, commits := int64(0), 0
			for b.Loop() {
				evs := make([]*store.Event, c.batch)
				for i := range evs {
					seq++
					evs[i] = benchEvent(seq)
				}
				if err := update(b.Context(), func(tx store.Tx) error { return tx.InsertEvents(b.Context(), evs) }); err != nil {
					b.Fatalf("Update: %v", err)
				}
				commits++
			}
			b.ReportMetric(float64(commits*c.batch)/b.Elapsed().Seconds(), "events/s")
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

// BenchmarkInsertSecret measures one durable commit holding one new secret
// with two tags, into a store of 10,000: the store's share of a create.
func BenchmarkInsertSecret(b *testing.B) {
	s := benchDB(b, 10000)
	i := 0
	for b.Loop() {
		sec := &store.Secret{ID: fmt.Sprintf("new-%d", i), Account: "1", Region: "r",
			Name: fmt.Sprintf("new-secret-%d", i), Status: store.StatusEnabled,
			Tags: []store.Tag{{Key: "env", Value: "prod"}, {Key: "n", Value: fmt.Sprint(i)}}}
		i++
		if err := s.Update(b.Context(), func(tx store.Tx) error { return tx.InsertSecret(b.Context(), sec) }); err != nil {
			b.Fatalf("Update: %v", err)
		}
	}
}

// BenchmarkSearch searches 100,000 names for a term 10 of them hold
// (through the trigram index) and for one all of them hold (a scan),
// with the total, as Tencent's ListSecrets asks.
func BenchmarkSearch(b *testing.B) {
	s := benchDB(b, 100000)
	for _, term := range []string{"secret-1234", "secret-"} {
		b.Run(term, func(b *testing.B) {
			benchList(b, s, store.SecretQuery{Account: "1", Region: "r", Limit: 100, Search: term})
		})
	}
}

// BenchmarkEvents measures audit look-ups over 100,000 indexed events: the
// newest 50 of a resource (one event in 50 names it) and of the account.
func BenchmarkEvents(b *testing.B) {
	s := benchDB(b, 0)
	const n, batch = 100_000, 1000
	for from := int64(1); from <= n; from += batch {
		evs := make([]*store.Event, batch)
		for i := range evs {
			evs[i] = benchEvent(from + int64(i))
		}
		if err := s.Update(b.Context(), func(tx store.Tx) error { return tx.InsertEvents(b.Context(), evs) }); err != nil {
			b.Fatalf("Update: %v", err)
		}
	}
	// Let the indexer reach the events, as it does under a steady load.
	for {
		left, err := s.(*sqlite.DB).UnindexedEvents(b.Context())
		if err != nil {
			b.Fatalf("UnindexedEvents: %v", err)
		}
		if left == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, q := range []struct {
		name string
		q    store.EventQuery
	}{
		{"resource", store.EventQuery{Account: "100000000001", Resource: "app/db-7", Desc: true, Limit: 50}},
		{"account", store.EventQuery{Account: "100000000001", Desc: true, Limit: 50}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				err := s.View(b.Context(), func(tx store.Tx) error {
					got, err := tx.Events(b.Context(), q.q)
					if err == nil && len(got) != 50 {
						err = fmt.Errorf("%d events, want 50", len(got))
					}
					return err
				})
				if err != nil {
					b.Fatalf("Events: %v", err)
				}
			}
		})
	}
}

// BenchmarkAuditWriter measures audited calls through the audit writer over
// the embedded store: the writer commits what queued while the last
// batch was written and flushes it beside the next (storetest.AuditWriter).
func BenchmarkAuditWriter(b *testing.B) {
	storetest.AuditWriter(b, MustOpen(b, filepath.Join(b.TempDir(), "coffer.db")))
}
