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

// PageQuery returns the statement of one page of ListSecrets, without the
// secret named without unless that is "".
func PageQuery(q store.SecretQuery, without string) (string, []any) {
	return pageQuery(sortKeys[q.SortBy], q, without)
}

// CountQuery returns the statement that counts ListSecrets' matches.
func CountQuery(q store.SecretQuery) (string, []any) { return countQuery(q) }

// ExactQuery returns the statement that reads the secret named q.Search.
func ExactQuery(q store.SecretQuery) (string, []any) { return exactQuery(q) }

// EventQuery returns the statement of Events.
func EventQuery(q store.EventQuery) (string, []any) { return eventQuery(q) }
