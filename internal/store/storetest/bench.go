package storetest

import (
	"testing"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
)

// AuditWriter measures audited calls through the audit writer over st: 32
// callers on two processors, each recording an event and waiting until it
// is durable, as GetSecretValue does. It reports events/s: the audit
// pipeline's own ceiling, apart from HTTP and the client.
func AuditWriter(b *testing.B, st store.Store) {
	w := &audit.Writer{Log: &audit.Log{Store: st}}
	defer w.Close()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ev := &audit.Event{Account: "100000000001", Action: "GetSecretValue", Family: "ssm",
				Resource: "app/db", RequestID: "bench", ReadOnly: true, Params: `{"SecretName":"app/db"}`}
			if err := w.Record(b.Context(), ev); err != nil {
				b.Errorf("Record: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
