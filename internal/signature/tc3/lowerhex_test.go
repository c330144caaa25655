package tc3

import "github.com/coffer-secrets/coffer/internal/signature/authheader"

// isLowerHex keeps, for the fuzz target, the name the check had before it
// moved to authheader.
func isLowerHex(s string, n int) bool { return authheader.IsLowerHex(s, n) }
