package policy

import (
	"fmt"
	"strings"
)

// Explanation is Evaluate's decision with the reasoning behind it, for an
// explain call: which statements applied, and why each did or did not.
type Explanation struct {
	Decision Decision
	// Summary says in one sentence why the decision was reached.
	Summary string
	// Steps has one entry per statement, identity documents first, in
	// document and statement order.
	Steps []Step
}

// Step is what one statement did.
type Step struct {
	Statement StatementRef
	Effect    Effect
	Applies   bool
	// Notes say, element by element, what matched and what did not.
	Notes []string
}

// Explain decides a request exactly as Evaluate does, evaluating every
// statement rather than stopping at the first Deny, and says why. It is
// meant for people: it allocates freely.
func Explain(req Request, identity, resource []*Document) Explanation {
	e := newEvaluation(req, &tracer{})
	d, g := e.run(identity, resource)
	return Explanation{Decision: d, Summary: e.summary(d, g), Steps: e.t.steps}
}

// String renders the explanation as indented text: the summary, then each
// statement with its notes.
func (x Explanation) String() string {
	var b strings.Builder
	b.WriteString(x.Summary)
	b.WriteByte('\n')
	for _, s := range x.Steps {
		verdict := "does not apply"
		if s.Applies {
			verdict = "applies"
		}
		fmt.Fprintf(&b, "  %s, %s: %s\n", s.Statement, s.Effect, verdict)
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "    %s\n", n)
		}
	}
	return b.String()
}

// tracer records the steps of an evaluation. A nil tracer records nothing,
// so the evaluator can call it unconditionally when a note has no
// arguments to format.
type tracer struct {
	steps []Step
}

func (t *tracer) begin(ref StatementRef, effect Effect) {
	if t != nil {
		t.steps = append(t.steps, Step{Statement: ref, Effect: effect})
	}
}

func (t *tracer) end(applies bool) {
	if t != nil {
		t.steps[len(t.steps)-1].Applies = applies
	}
}

func (t *tracer) note(format string, args ...any) {
	if t != nil {
		s := &t.steps[len(t.steps)-1]
		s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
	}
}

// summary words the decision.
func (e *evaluation) summary(d Decision, g grants) string {
	call := fmt.Sprintf("%s on %q", e.req.Action, e.resources[0])
	if len(e.req.Resources) == 0 {
		call += " (an operation-level call)"
	}
	own := e.req.Principal.Account
	switch {
	case d.Reason == ExplicitDeny:
		return fmt.Sprintf("ExplicitDeny: %s denies %s; an explicit deny overrides every allow", d.Statement, call)
	case d.Reason == Allowed && d.Also.Source != 0:
		return fmt.Sprintf("Allowed: %s lets the principal of account %s into account %s for %s, and %s allows it in account %s",
			d.Statement, own, e.resAcct, call, d.Also, own)
	case d.Reason == Allowed && d.Statement.Source == AccountRoot:
		return fmt.Sprintf("Allowed: the root of account %s may do everything in its own account, %s included", own, call)
	case d.Reason == Allowed && d.Statement.Source == ResourcePolicy:
		return fmt.Sprintf("Allowed: %s names the principal and allows %s", d.Statement, call)
	case d.Reason == Allowed:
		return fmt.Sprintf("Allowed: %s allows %s", d.Statement, call)
	}
	return "ImplicitDeny: " + e.implicitDenial(g, call)
}

func (e *evaluation) implicitDenial(g grants, call string) string {
	res := g.name
	if res.Source == 0 {
		res = g.account
	}
	cross := e.crossAccount()
	switch {
	case cross && g.identity.Source != 0:
		return fmt.Sprintf("%s allows %s, but the resource belongs to account %s and no resource policy statement names the principal or its account; cross-account access needs both",
			g.identity, call, e.resAcct)
	case cross && res.Source != 0:
		return fmt.Sprintf("%s grants %s, but no identity policy allows it in the principal's account %s; cross-account access needs both",
			res, call, e.req.Principal.Account)
	case g.account.Source != 0:
		return fmt.Sprintf("%s names only the principal's account, which leaves %s to its identity policies, and none allows it",
			g.account, call)
	}
	return "no statement allows " + call
}
