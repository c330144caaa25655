package sqlite

import (
	"strings"
	"testing"
	"time"
)

// TestRotationPlans checks the rotation queries each read the index made
// for them, seek in it, and need no sort step: the scheduler runs them
// every few seconds over every account.
func TestRotationPlans(t *testing.T) {
	db := openTest(t)
	now := time.UnixMilli(1.7e12)
	runsDue, runsDueArgs := runsDueQuery(now, 100)
	secretsDue, secretsDueArgs := secretsRotationDueQuery(now, 100)
	tests := []struct {
		name  string
		query string
		args  []any
		want  string // in the plan
	}{
		{"RotationRunsDue", runsDue, runsDueArgs,
			"SEARCH rotation_runs USING INDEX rotation_runs_due (state=? AND <expr><?)"},
		{"RotationRuns", runsOfSecret, []any{"s1", 20},
			"SEARCH rotation_runs USING INDEX rotation_runs_secret (secret_id=?)"},
		{"SecretsRotationDue", secretsDue, secretsDueArgs,
			"SEARCH secrets USING INDEX secrets_rotation_due (rotation_enabled=? AND status=? AND rotation_next<?)"},
	}
	for _, tt := range tests {
		plan := queryPlan(t, db, tt.query, tt.args)
		if !strings.Contains(plan, tt.want) {
			t.Errorf("%s: plan %q, want %q", tt.name, plan, tt.want)
		}
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan %q sorts", tt.name, plan)
		}
	}
}
