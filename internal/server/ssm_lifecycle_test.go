package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestSSMStateMachine walks one secret through every transition of spec
// §4.3: Enabled → Disabled → PendingDelete → (Restore) Disabled → Enabled,
// then Disabled → purged at once with a window of 0.
func TestSSMStateMachine(t *testing.T) {
	s := startServer(t, "")
	m := newMX(t, s, testRegion)
	const name = "sm-secret"
	m.create(name, "sm-value", mxP{"VersionId": "v1"})
	m.wantStatus(name, "Enabled", 0)

	m.fails("OperationDenied", "DeleteSecret", mxP{"SecretName": name, "RecoveryWindowInDays": 7})
	m.wantStatus(name, "Enabled", 0)

	m.must("DisableSecret", mxP{"SecretName": name})
	m.wantStatus(name, "Disabled", 0)
	m.fails("ResourceUnavailable.ResourceDisabled", "GetSecretValue", mxP{"SecretName": name, "VersionId": "v1"})

	before := time.Now().Unix()
	out := m.must("DeleteSecret", mxP{"SecretName": name, "RecoveryWindowInDays": 7})
	after := time.Now().Unix()
	deleteTime := int64(mxNum(t, out, "DeleteTime"))
	if lo, hi := before+7*86400, after+7*86400; deleteTime < lo || deleteTime > hi {
		t.Errorf("DeleteSecret: got DeleteTime %d, want now + 7 days, in [%d, %d]", deleteTime, lo, hi)
	}
	m.wantStatus(name, "PendingDelete", deleteTime)
	m.fails("ResourceUnavailable.ResourcePendingDeleted", "GetSecretValue", mxP{"SecretName": name, "VersionId": "v1"})
	m.fails("ResourceUnavailable.ResourcePendingDeleted", "EnableSecret", mxP{"SecretName": name})
	t.Run("NameTakenWhilePending", func(t *testing.T) {
		newMX(t, s, testRegion).fails("ResourceInUse.SecretExists", "CreateSecret", mxP{"SecretName": name, "SecretString": "other"})
	})
	m.wantStatus(name, "PendingDelete", deleteTime)

	m.must("RestoreSecret", mxP{"SecretName": name})
	m.wantStatus(name, "Disabled", 0)
	m.fails("FailedOperation", "RestoreSecret", mxP{"SecretName": name})

	m.must("EnableSecret", mxP{"SecretName": name})
	m.wantStatus(name, "Enabled", 0)
	m.wantString(name, "v1", "sm-value")

	m.must("DisableSecret", mxP{"SecretName": name})
	out = m.must("DeleteSecret", mxP{"SecretName": name, "RecoveryWindowInDays": 0})
	if got := int64(mxNum(t, out, "DeleteTime")); got < before || got > time.Now().Unix() {
		t.Errorf("DeleteSecret with window 0: got DeleteTime %d, want now", got)
	}
	m.wantGone(name)

	// The name is free again, and the new secret starts from nothing.
	m.create(name, "sm-reborn", nil)
	if got, want := m.versions(name), []string{"SSM_Current"}; !slices.Equal(got, want) {
		t.Errorf("recreated secret: got versions %v, want %v", got, want)
	}
	m.wantString(name, "SSM_Current", "sm-reborn")
}

// TestSSMDeleteDefaultWindow checks that DeleteSecret without
// RecoveryWindowInDays purges at once (the default window is 0).
func TestSSMDeleteDefaultWindow(t *testing.T) {
	s := startServer(t, "")
	m := newMX(t, s, testRegion)
	m.create("dw-secret", "v", nil)
	m.must("DisableSecret", mxP{"SecretName": "dw-secret"})
	m.must("DeleteSecret", mxP{"SecretName": "dw-secret"})
	m.wantGone("dw-secret")
}

// wantStatus checks name's status and DeleteTime in DescribeSecret and in
// ListSecrets.
func (m *mx) wantStatus(name, status string, deleteTime int64) {
	m.t.Helper()
	d := m.describe(name)
	if got := mxStr(m.t, d, "Status"); got != status {
		m.t.Errorf("DescribeSecret(%s): got Status %s, want %s", name, got, status)
	}
	if got := int64(mxNum(m.t, d, "DeleteTime")); got != deleteTime {
		m.t.Errorf("DescribeSecret(%s): got DeleteTime %d, want %d", name, got, deleteTime)
	}
	_, _, metas := m.list(mxP{"SearchSecretName": name, "Limit": 1})
	if len(metas) != 1 || metas[0]["SecretName"] != name {
		m.t.Fatalf("ListSecrets(SearchSecretName=%s): got %v, want the secret first", name, metas)
	}
	if got := mxStr(m.t, metas[0], "Status"); got != status {
		m.t.Errorf("ListSecrets(%s): got Status %s, want %s", name, got, status)
	}
	if got := int64(mxNum(m.t, metas[0], "DeleteTime")); got != deleteTime {
		m.t.Errorf("ListSecrets(%s): got DeleteTime %d, want %d", name, got, deleteTime)
	}
}

// wantGone checks that every action naming name finds nothing.
func (m *mx) wantGone(name string) {
	m.t.Helper()
	for _, action := range []string{"DescribeSecret", "ListSecretVersionIds", "EnableSecret", "RestoreSecret"} {
		m.fails("ResourceNotFound", action, mxP{"SecretName": name})
	}
	m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": name, "VersionId": "SSM_Current"})
	if names, _, _ := m.list(mxP{"SearchSecretName": name}); slices.Contains(names, name) {
		m.t.Errorf("ListSecrets still lists purged secret %s", name)
	}
}

// The three statuses a user-defined secret can be in.
var mxStatuses = []string{"Enabled", "Disabled", "PendingDelete"}

// inStatus creates name holding version v1 = "v-1" in status.
func (m *mx) inStatus(name, status string) {
	m.t.Helper()
	m.create(name, "v-1", mxP{"VersionId": "v1"})
	if status == "Enabled" {
		return
	}
	m.must("DisableSecret", mxP{"SecretName": name})
	if status == "PendingDelete" {
		m.must("DeleteSecret", mxP{"SecretName": name, "RecoveryWindowInDays": 7})
	}
}

// TestSSMStatusRules runs each action against a secret in each status and
// checks which are allowed (spec §4.3) and what status each leaves.
func TestSSMStatusRules(t *testing.T) {
	const (
		ok      = ""
		pending = "ResourceUnavailable.ResourcePendingDeleted"
		skip    = "-" // not specified by spec §4.3; not pinned here
		gone    = "gone"
	)
	type outcome struct{ code, after string } // after: status on success, "" for the same
	s := startServer(t, "")
	for i, tc := range []struct {
		action string // may carry a "/variant" suffix
		params func(name string) mxP
		want   [3]outcome // by mxStatuses
	}{
		{"GetSecretValue", func(n string) mxP { return mxP{"SecretName": n, "VersionId": "v1"} },
			[3]outcome{{ok, ""}, {"ResourceUnavailable.ResourceDisabled", ""}, {pending, ""}}},
		{"PutSecretValue", func(n string) mxP { return mxP{"SecretName": n, "VersionId": "v2", "SecretString": "v-2"} },
			[3]outcome{{ok, ""}, {ok, ""}, {pending, ""}}},
		{"UpdateSecret", func(n string) mxP { return mxP{"SecretName": n, "VersionId": "v1", "SecretString": "v-1b"} },
			[3]outcome{{ok, ""}, {ok, ""}, {pending, ""}}},
		{"UpdateDescription", func(n string) mxP { return mxP{"SecretName": n, "Description": "new"} },
			[3]outcome{{ok, ""}, {ok, ""}, {pending, ""}}},
		{"DescribeSecret", func(n string) mxP { return mxP{"SecretName": n} },
			[3]outcome{{ok, ""}, {ok, ""}, {ok, ""}}},
		{"ListSecretVersionIds", func(n string) mxP { return mxP{"SecretName": n} },
			[3]outcome{{ok, ""}, {ok, ""}, {ok, ""}}},
		{"DeleteSecretVersion", func(n string) mxP { return mxP{"SecretName": n, "VersionId": "v1"} },
			[3]outcome{{ok, ""}, {ok, ""}, {ok, ""}}},
		{"DisableSecret", func(n string) mxP { return mxP{"SecretName": n} },
			[3]outcome{{ok, "Disabled"}, {ok, "Disabled"}, {pending, ""}}},
		{"EnableSecret", func(n string) mxP { return mxP{"SecretName": n} },
			[3]outcome{{ok, "Enabled"}, {ok, "Enabled"}, {pending, ""}}},
		{"RestoreSecret", func(n string) mxP { return mxP{"SecretName": n} },
			[3]outcome{{"FailedOperation", ""}, {"FailedOperation", ""}, {ok, "Disabled"}}},
		{"DeleteSecret/window7", func(n string) mxP { return mxP{"SecretName": n, "RecoveryWindowInDays": 7} },
			[3]outcome{{"OperationDenied", ""}, {ok, "PendingDelete"}, {pending, ""}}},
		{"DeleteSecret/window0", func(n string) mxP { return mxP{"SecretName": n, "RecoveryWindowInDays": 0} },
			[3]outcome{{"OperationDenied", ""}, {ok, gone}, {skip, ""}}},
		{"CreateSecret", func(n string) mxP { return mxP{"SecretName": n, "SecretString": "other"} },
			[3]outcome{{"ResourceInUse.SecretExists", ""}, {"ResourceInUse.SecretExists", ""}, {"ResourceInUse.SecretExists", ""}}},
	} {
		action, _, _ := strings.Cut(tc.action, "/")
		for j, status := range mxStatuses {
			want := tc.want[j]
			if want.code == skip {
				continue
			}
			t.Run(tc.action+"/"+status, func(t *testing.T) {
				m := newMX(t, s, testRegion)
				name := fmt.Sprintf("rule-%d-%s", i, status)
				m.inStatus(name, status)
				if want.code != ok {
					before := m.snapshot(name)
					m.fails(want.code, action, tc.params(name))
					m.unchanged(name, before)
					return
				}
				m.must(action, tc.params(name))
				switch want.after {
				case gone:
					m.wantGone(name)
				case "":
					if got := m.status(name); got != status {
						t.Errorf("got Status %s, want %s (unchanged)", got, status)
					}
				default:
					if got := m.status(name); got != want.after {
						t.Errorf("got Status %s, want %s", got, want.after)
					}
				}
			})
		}
	}
}

// TestSSMDeletionWindowExpires checks the timer transition of spec §4.3:
// once its DeleteTime has passed, a PendingDelete secret is purged, and a
// secret whose window is still open stays. The server clock jumps ahead
// only around the sweep, so signed calls keep within the allowed skew.
func TestSSMDeletionWindowExpires(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	m := newMX(t, s, testRegion)
	m.inStatus("expire-soon", "Disabled")
	m.must("DeleteSecret", mxP{"SecretName": "expire-soon", "RecoveryWindowInDays": 1})
	m.inStatus("expire-later", "Disabled")
	out := m.must("DeleteSecret", mxP{"SecretName": "expire-later", "RecoveryWindowInDays": 3})
	later := int64(mxNum(t, out, "DeleteTime"))

	clock.advance(49 * time.Hour)
	s.SweepNow(context.Background())
	clock.advance(-49 * time.Hour)

	m.wantGone("expire-soon")
	m.wantStatus("expire-later", "PendingDelete", later)
	m.create("expire-soon", "reborn", nil) // the name is free again
}
