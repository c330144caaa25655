package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// TestEventPlans checks that each look-up path of Events reads the index
// eventIndex chose for it, seeks on its equality prefix, and sorts only
// where the index cannot give the seq order: the (account, time) window.
// A look-up through an index also reads the events the indexer has not
// reached, from the table's end, and merges the two in seq order.
func TestEventPlans(t *testing.T) {
	db := openTest(t)
	from := time.UnixMilli(1.7e12)
	window := func(q store.EventQuery) store.EventQuery {
		q.From, q.To, q.Desc, q.Limit = from, from.Add(24*time.Hour), true, 50
		return q
	}
	tests := []struct {
		name string
		q    store.EventQuery
		want string // in the plan
		sort bool
	}{
		{"account", store.EventQuery{Account: "1", Desc: true, Limit: 50},
			"USING INDEX audit_events_account (account=?)", false},
		{"account, next page", store.EventQuery{Account: "1", Desc: true, Limit: 50, BeforeSeq: 900},
			"USING INDEX audit_events_account (account=? AND seq<?)", false},
		{"account, window", window(store.EventQuery{Account: "1"}),
			"USING INDEX audit_events_account_time (account=? AND time>? AND time<?)", true},
		{"account, window, next page", window(store.EventQuery{Account: "1", BeforeSeq: 900}),
			"USING INDEX audit_events_account_time (account=? AND time>? AND time<?)", true},
		{"principal", window(store.EventQuery{Account: "1", PrincipalID: "p"}),
			"USING INDEX audit_events_account_time (account=? AND time>? AND time<?)", true},
		{"resource", window(store.EventQuery{Account: "1", Resource: "db", BeforeSeq: 900}),
			"USING INDEX audit_events_resource (account=? AND resource=? AND seq<?)", false},
		{"access key", window(store.EventQuery{Account: "1", AccessKeyID: "AK"}),
			"USING INDEX audit_events_access_key (account=? AND access_key_id=?)", false},
		{"one action", window(store.EventQuery{Account: "1", Action: []string{"GetSecretValue"}}),
			"USING INDEX audit_events_action (account=? AND action=?)", false},
		{"two actions", window(store.EventQuery{Account: "1", Action: []string{"GetSecretValue", "PutSecretValue"}}),
			"USING INDEX audit_events_account_time (account=? AND time>? AND time<?)", true},
		{"two actions, no window", store.EventQuery{Account: "1", Action: []string{"A", "B"}, Desc: true, Limit: 50},
			"USING INDEX audit_events_account (account=?)", false},
		{"request id", window(store.EventQuery{Account: "1", RequestID: "r", Resource: "db"}),
			"USING INDEX audit_events_request (request_id=?)", false},
		{"export", store.EventQuery{AfterSeq: 900, Limit: 500}, "USING INTEGER PRIMARY KEY (rowid>?)", false},
		{"verification", store.EventQuery{}, "SCAN audit_events", false},
	}
	for _, tt := range tests {
		query, args := eventQuery(tt.q)
		plan := queryPlan(t, db, query, args)
		if !strings.Contains(plan, tt.want) {
			t.Errorf("%s: plan %q, want %q", tt.name, plan, tt.want)
		}
		if got := strings.Contains(plan, "TEMP B-TREE"); got != tt.sort {
			t.Errorf("%s: plan %q sorts: got %v, want %v", tt.name, plan, got, tt.sort)
		}
		if strings.Contains(tt.want, "USING INDEX") {
			for _, part := range []string{"MERGE (UNION ALL)", "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid>?"} {
				if !strings.Contains(plan, part) {
					t.Errorf("%s: plan %q, want %q for the unindexed events", tt.name, plan, part)
				}
			}
		}
	}
}
