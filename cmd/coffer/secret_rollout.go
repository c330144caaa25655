package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	sdk "github.com/coffer-secrets/coffer/client"
)

// selectorFlags select the callers a roll-out serves.
type selectorFlags struct {
	users, roles, tags []string
	percent            int
}

func (f *selectorFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.users, "user", nil, `user name or id to serve the version to ("root" for the account root; repeatable)`)
	fs.StringArrayVar(&f.roles, "role", nil, "role name to serve the version to (repeatable)")
	fs.StringArrayVar(&f.tags, "tag", nil, "serve callers whose principal has every tag KEY=VALUE given (repeatable)")
	fs.IntVar(&f.percent, "percent", 0, "serve this share of the other callers, 0 to 100 (stable per caller)")
}

// given reports whether any selector flag was given.
func (f *selectorFlags) given(cmd *cobra.Command) bool {
	for _, n := range []string{"user", "role", "tag", "percent"} {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// selector returns the selector the flags name; it is a usage error to
// name nobody or a percentage out of range.
func (f *selectorFlags) selector() (sdk.RolloutSelector, error) {
	tags, err := parseTags(f.tags)
	if err != nil {
		return sdk.RolloutSelector{}, err
	}
	if f.percent < 0 || f.percent > 100 {
		return sdk.RolloutSelector{}, usageErr(errors.New("--percent is 0 to 100"))
	}
	if len(f.users)+len(f.roles)+len(tags) == 0 && f.percent == 0 {
		return sdk.RolloutSelector{}, usageErr(errors.New("name the callers: --user, --role, --tag or --percent"))
	}
	return sdk.RolloutSelector{Users: f.users, Roles: f.roles, Tags: tags, Percent: f.percent}, nil
}

func newSecretRolloutCmd(conn *connFlags) *cobra.Command {
	cmd := groupCmd("rollout", "Serve a version to some callers before all, then promote or abandon it")
	cmd.Long = `A roll-out serves one version of a secret, not the current one, to the
callers it selects (users, roles, principal tags, a share of the others)
instead of the current version. Promote it to make that version current for
everyone, or abandon it to serve the current version to everyone again.`
	cmd.AddCommand(newRolloutStartCmd(conn), newRolloutEndCmd(conn, true), newRolloutEndCmd(conn, false))
	return cmd
}

// rolloutJSON is a roll-out as JSON output.
type rolloutJSON struct {
	SecretName string
	VersionId  string
	Users      []string
	Roles      []string
	Tags       []sdk.Tag
	Percent    int
	StartTime  string
}

func newRolloutStartCmd(conn *connFlags) *cobra.Command {
	var sel selectorFlags
	var versionID string
	cmd := nameCmd(conn, "start NAME", "Serve a version to some callers (StartSecretRollout)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if versionID == "" {
				return usageErr(errors.New("give the version to roll out: --version"))
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			r, err := c.StartSecretRollout(cmd.Context(), args[0], versionID, s)
			if err != nil {
				return err
			}
			out := rolloutJSON{args[0], r.VersionID, nonNil(r.Users), nonNil(r.Roles), r.Tags, r.Percent, timeString(r.Started)}
			if out.Tags == nil {
				out.Tags = []sdk.Tag{}
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Rolling out version %s of %s to %s\n", r.VersionID, args[0], describeSelector(r.RolloutSelector))
			})
		})
	cmd.Example = `  coffer secret rollout start db-password --version v7 --user alice --role ci
  coffer secret rollout start api-token --version v3 --tag ring=canary --percent 10`
	cmd.Flags().StringVar(&versionID, "version", "", "the version to roll out (an existing version that is not current)")
	sel.register(cmd.Flags())
	return cmd
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// describeSelector says whom a roll-out serves, for the table output.
func describeSelector(s sdk.RolloutSelector) string {
	var parts []string
	if len(s.Users) > 0 {
		parts = append(parts, "users "+strings.Join(s.Users, ", "))
	}
	if len(s.Roles) > 0 {
		parts = append(parts, "roles "+strings.Join(s.Roles, ", "))
	}
	if len(s.Tags) > 0 {
		var kv []string
		for _, t := range s.Tags {
			kv = append(kv, t.Key+"="+t.Value)
		}
		parts = append(parts, "callers tagged "+strings.Join(kv, ", "))
	}
	if s.Percent > 0 {
		parts = append(parts, fmt.Sprintf("%d%% of the other callers", s.Percent))
	}
	return strings.Join(parts, "; ")
}

func newRolloutEndCmd(conn *connFlags, promote bool) *cobra.Command {
	use, short := "abandon NAME", "End a roll-out: the current version serves everyone again (AbandonSecretRollout)"
	if promote {
		use, short = "promote NAME", "Make a roll-out's version current for everyone (PromoteSecretRollout)"
	}
	return nameCmd(conn, use, short, func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
		call, done := c.AbandonSecretRollout, "Abandoned the roll-out of %s\n"
		if promote {
			call, done = c.PromoteSecretRollout, "Promoted the roll-out of %s: its version is current\n"
		}
		if err := call(cmd.Context(), args[0]); err != nil {
			return err
		}
		return p.print(map[string]string{"SecretName": args[0]}, func(w io.Writer) { fmt.Fprintf(w, done, args[0]) })
	})
}

func newSecretWatchCmd(conn *connFlags) *cobra.Command {
	var known string
	var wait time.Duration
	cmd := nameCmd(conn, "watch NAME", "Wait for a secret's version to change and print it (WaitSecretChange)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if wait < 0 {
				return usageErr(errors.New("--wait is not negative"))
			}
			ch, err := watchVersion(cmd, c, args[0], known, wait)
			if err != nil {
				return err
			}
			out := struct {
				SecretName, VersionId string
				Changed               bool
			}{args[0], ch.VersionID, ch.Changed}
			return p.print(out, func(w io.Writer) { fmt.Fprintln(w, ch.VersionID) })
		})
	cmd.Long = `Wait until the version of a secret you read by default (the current one,
or a roll-out's you are selected for) is another than --version, for up
to --wait, and print the version id: the new one, or --version's if
nothing changed (JSON says which in Changed). Without --version, wait for
a change from the version current when the command starts.`
	cmd.Example = `  v=$(coffer secret watch app-config)     # blocks until the next change
  coffer secret watch app-config --version "$v" --wait 5m -o json`
	cmd.Flags().StringVar(&known, "version", "", "the version you know (default: the current one)")
	cmd.Flags().DurationVar(&wait, "wait", sdk.MaxWait, "how long to wait; longer than 20s waits in several calls")
	return cmd
}

// watchVersion long-polls until the version differs from known (the
// current one when ""), or wait has passed, in calls of at most MaxWait.
func watchVersion(cmd *cobra.Command, c *sdk.Client, name, known string, wait time.Duration) (*sdk.VersionChange, error) {
	if known == "" {
		cur, err := c.WaitSecretChange(cmd.Context(), name, "", 0)
		if err != nil {
			return nil, err
		}
		known = cur.VersionID
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline).Round(time.Second)
		ch, err := c.WaitSecretChange(cmd.Context(), name, known, max(0, min(left, sdk.MaxWait)))
		if err != nil || ch.Changed || left <= sdk.MaxWait {
			return ch, err
		}
	}
}
