// Package policy parses and validates access policy documents in the AWS IAM
// and Tencent CAM JSON dialects, and decides requests against them: it owns
// the parsed form of a policy and the evaluator (Evaluate, Explain).
package policy

import (
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// MaxSize is the longest document Parse accepts, in bytes: the AWS limit for
// a resource policy. CAM allows 6,144 characters; its edge checks that.
const MaxSize = 20480

// Dialect is the JSON language a document is written in.
type Dialect uint8

// The dialects. A document's version says which one it is: "2012-10-17" or
// "2008-10-17" for AWS, "2.0" for CAM.
const (
	AWS Dialect = iota + 1 // case-sensitive keys: Version, Statement, Effect…
	CAM                    // keys in any letter case: version, statement, effect…
)

// String returns "AWS" or "CAM".
func (d Dialect) String() string {
	switch d {
	case AWS:
		return "AWS"
	case CAM:
		return "CAM"
	}
	return "Dialect(?)"
}

// Effect is what a statement does when it applies.
type Effect uint8

// The effects. The zero Effect is invalid.
const (
	Allow Effect = iota + 1
	Deny
)

// String returns "Allow" or "Deny", the AWS spelling.
func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Effect(?)"
}

// Document is a parsed policy.
type Document struct {
	Dialect Dialect
	// Version is "2012-10-17", "2008-10-17" or "2.0". An AWS document
	// without a Version is "2008-10-17", as in AWS.
	Version string
	ID      string // the AWS Id element; "" when absent
	// Principals is CAM's document-level principal, which applies to
	// statements that name none; nil when absent, and always for AWS.
	Principals *Principals
	Statements []Statement // at least one
}

// Statement is one rule of a document. Exactly one of Actions and NotActions
// is set. List fields are nil when the element is absent and never empty
// when present.
type Statement struct {
	Sid    string // AWS only; unique within a document when set
	Effect Effect
	// Principals and NotPrincipals are nil when absent; at most one is set.
	Principals, NotPrincipals *Principals
	// Actions are "service:Action" patterns (with * and ? wildcards) or
	// "*". CAM's legacy "name/" prefix is removed.
	Actions, NotActions []string
	// Resources are ARNs (AWS), qcs resource names (CAM) or "*". With both
	// nil the statement applies to the resource the policy is attached to.
	Resources, NotResources []string
	// Conditions is nil when the element is absent or empty.
	Conditions Conditions
}

// Principals names who a statement is about: everyone ("*"), or principals
// by type. AWS types are "AWS", "Service", "Federated" and "CanonicalUser";
// CAM types are "qcs", "service" and "federated" (stored lower-case).
type Principals struct {
	Wildcard bool                // the element was "*"
	ByType   map[string][]string // type → identifiers; nil with Wildcard
}

// Conditions maps an operator, spelt as in the document ("StringEquals",
// "ForAnyValue:StringLike", "ip_not_equal"…), to condition keys and their
// values. Numbers and booleans are kept as their JSON text.
type Conditions map[string]map[string][]string

// Finding is one problem Validate found.
type Finding struct {
	Check   string // one of the Check constants
	Message string // says which statement and which element
}

// The checks a Finding can come from.
const (
	CheckSize        = "SIZE"         // the document is too long
	CheckSyntax      = "SYNTAX"       // JSON, shape, keys, dialect mixing
	CheckVersion     = "VERSION"      // missing or unknown version
	CheckEffect      = "EFFECT"       // missing or unknown effect
	CheckAction      = "ACTION"       // missing or malformed action
	CheckResource    = "RESOURCE"     // malformed resource
	CheckPrincipal   = "PRINCIPAL"    // malformed or (resource policy) missing principal
	CheckCondition   = "CONDITION"    // malformed condition block or value
	CheckBroadAccess = "BROAD_ACCESS" // allows everyone, unconditionally
)

// Parse parses a policy document in either dialect. It returns fault.Invalid
// when the document is longer than MaxSize, is not well-formed JSON, mixes
// the dialects, or has a missing or malformed element; the message names
// the statement and the element.
func Parse(doc string) (*Document, error) {
	d, findings := parse(doc)
	if len(findings) > 0 {
		return nil, fault.E("policy.Parse", fault.Invalid, findings[0].Message)
	}
	return d, nil
}

// Validate checks a resource policy, as ValidateResourcePolicy does: every
// problem Parse would report, then, for a document that parses, statements
// without a principal and statements that allow everyone. It returns no
// findings when the policy passes, and at most 100.
func Validate(doc string) []Finding {
	d, findings := parse(doc)
	if len(findings) > 0 {
		return findings
	}
	return d.review()
}

// parse checks the size, then parses.
func parse(doc string) (*Document, []Finding) {
	if len(doc) > MaxSize {
		msg := fmt.Sprintf("the policy is %d bytes long; the limit is %d", len(doc), MaxSize)
		return nil, []Finding{{CheckSize, msg}}
	}
	return parseDocument(doc)
}
