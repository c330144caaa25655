package sqlite

import (
	"strings"
	"testing"
)

// TestReplicationPlans checks ReplicatedSecrets walks secrets_replicated,
// the partial index of the secrets with replicas, seeking to the cursor
// with no sort step, from the start or after an id: the replication
// worker pages through every account with it.
func TestReplicationPlans(t *testing.T) {
	db := openTest(t)
	for _, afterID := range []string{"", "s-42"} {
		plan := queryPlan(t, db, replicatedSecrets, []any{afterID, 100})
		if want := "SEARCH secrets USING INDEX secrets_replicated (id>?)"; !strings.Contains(plan, want) {
			t.Errorf("after %q: plan %q, want %q", afterID, plan, want)
		}
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("after %q: plan %q sorts", afterID, plan)
		}
	}
}
