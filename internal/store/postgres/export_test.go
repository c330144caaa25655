package postgres

import "github.com/coffer-secrets/coffer/internal/store"

// The statements of the hot queries, for the plan tests of package
// postgres_test.
const (
	SecretByName   = secretSelect + ` WHERE ` + secretByName
	VersionByStage = versionSelect + ` WHERE ` + versionByStage
	SecretsDue     = secretsDue

	RunsDue            = runsDue
	RunsOfSecret       = runsOfSecret
	SecretsRotationDue = secretsRotationDue

	ReplicatedSecrets = replicatedSecrets
)

// PageQuery returns the statement of one page of ListSecrets.
func PageQuery(q store.SecretQuery) (string, []any) { return pageQuery(sortKeys[q.SortBy], q) }

// EventQuery returns the statement of Events.
func EventQuery(q store.EventQuery) (string, []any) { return eventQuery(q) }
