package server_test

import (
	"testing"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestServiceStatusReportsLimits: GetServiceStatus reports the secrets held,
// the secret limit and the account's request rate limit.
func TestServiceStatusReportsLimits(t *testing.T) {
	s := mxStartServer(t, func(c *server.Config) { c.Limits.Account = 750 })
	c := s.client(testRegion)
	c.must("CreateSecret", map[string]any{"SecretName": "one", "SecretString": "v"})
	got := c.must("GetServiceStatus", nil)
	for k, want := range map[string]float64{"TotalCount": 1, "QPSLimit": 750, "SecretLimit": 100000} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}
