package policy

import (
	"slices"
	"strings"
)

// reach is how a statement's principal element reaches the caller. The
// order matters: a statement that names the caller itself reaches further
// than one that names only its account.
type reach uint8

const (
	unreached reach = iota
	// byAccount: the statement names the caller's account. In a resource
	// policy that delegates to the account: its identity policies must
	// allow the call too.
	byAccount
	// byName: the statement names the caller itself (one of its Names), or
	// everyone; a resource policy alone then suffices in the same account.
	byName
)

// String returns the reach as a phrase for Explain.
func (r reach) String() string {
	switch r {
	case byAccount:
		return "names the principal's account"
	case byName:
		return "names the principal"
	}
	return "does not name the principal"
}

// reachOf says how a Principal element reaches pr.
func reachOf(p *Principals, pr *Principal) reach {
	name, account := p.names(pr)
	switch {
	case name:
		return byName
	case account:
		return byAccount
	}
	return unreached
}

// exempts reports whether a NotPrincipal element spares pr. As in AWS, it
// must name both the caller and its account: a request is made by the
// caller on behalf of its account, and a Deny with NotPrincipal applies if
// it does not spare every one of them. A root or service caller is its own
// account.
func exempts(p *Principals, pr *Principal) bool {
	name, account := p.names(pr)
	return name && (account || pr.Kind == KindRoot || pr.Kind == KindService)
}

// names reports whether the principals name pr itself (or everyone) and
// whether they name pr's account.
func (p *Principals) names(pr *Principal) (name, account bool) {
	if p.Wildcard {
		return true, true
	}
	for typ, ids := range p.ByType {
		for _, id := range ids {
			n, a := nameOne(typ, id, pr)
			name, account = name || n, account || a
		}
	}
	return name, account
}

// nameOne interprets one identifier of a principal type:
//   - AWS: "*" is everyone; a 12-digit id or arn:PARTITION:iam::ACCOUNT:root
//     is the account; any other ARN must be one of pr.Names.
//   - qcs: "*", qcs::cam::anyone and qcs::cam::anonymous:anonymous are
//     everyone; qcs::cam::uin/ACCOUNT:root is the account; anything else
//     must be one of pr.Names.
//   - Service/service: a service caller, named in pr.Names ("*": any).
//   - Federated, CanonicalUser, federated: one of pr.Names.
//
// A root caller is named by its account too.
func nameOne(typ, id string, pr *Principal) (name, account bool) {
	switch typ {
	case "AWS", "qcs":
		if everyone(id) {
			return true, true
		}
		if acct, ok := accountID(id); ok {
			account = pr.Account != "" && acct == pr.Account
			return account && pr.Kind == KindRoot, account
		}
	case "Service", "service":
		named := pr.Kind == KindService && (id == "*" || slices.Contains(pr.Names, id))
		return named, named
	}
	return slices.Contains(pr.Names, id), false
}

func everyone(id string) bool {
	switch id {
	case "*", "qcs::cam::anyone", "qcs::cam::anonymous:anonymous":
		return true
	}
	return false
}

// accountID recognizes the identifiers that name a whole account: an AWS
// account id, arn:PARTITION:iam::ACCOUNT:root and qcs::cam::uin/ACCOUNT:root.
func accountID(id string) (string, bool) {
	if isAccountID(id) {
		return id, true
	}
	seg, ok := segments(id)
	if !ok || seg[5] != "root" {
		return "", false
	}
	switch {
	case seg[0] == "arn" && seg[2] == "iam" && seg[3] == "" && seg[4] != "":
		return seg[4], true
	case seg[0] == "qcs" && seg[2] == "cam" && seg[3] == "" && strings.HasPrefix(seg[4], "uin/") && len(seg[4]) > 4:
		return seg[4][4:], true
	}
	return "", false
}
