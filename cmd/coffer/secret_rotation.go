package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	sdk "github.com/coffer-secrets/coffer/client"
)

// addRotationCommands adds the rotation, roll-out, watch and SSH key
// commands to the secret group.
func addRotationCommands(secret *cobra.Command, conn *connFlags) {
	secret.AddCommand(
		newSecretRotateCmd(conn), newSecretRotationCmd(conn), newSecretRotationSetCmd(conn),
		newSecretRolloutCmd(conn), newSecretWatchCmd(conn), newSecretSSHCmd(conn),
	)
}

// flowWait is how the commands that start a flow wait for it.
type flowWait struct {
	wait    bool
	timeout time.Duration
}

func (f *flowWait) register(fs *pflag.FlagSet, what string) {
	fs.BoolVar(&f.wait, "wait", false, "wait until the "+what+" ends; exit 1 if it failed")
	fs.DurationVar(&f.timeout, "wait-timeout", 5*time.Minute, "with --wait, give up after this long (exit 6)")
}

// flowJSON is a flow as JSON output.
type flowJSON struct {
	SecretName  string `json:",omitempty"`
	FlowID      int64
	TaskStatus  *int   `json:",omitempty"`
	State       string `json:",omitempty"`
	Description string `json:",omitempty"`
}

func toFlowJSON(name string, f *sdk.Flow) flowJSON {
	st := int(f.State)
	return flowJSON{SecretName: name, FlowID: f.ID, TaskStatus: &st, State: f.State.String(), Description: f.Description}
}

// await waits for flow id as f says. It returns the flow's last state and,
// for a flow that failed, an error with exit status 1; for a flow still
// running at the timeout, one with exit status 6.
func (f *flowWait) await(cmd *cobra.Command, c *sdk.Client, id int64) (*sdk.Flow, error) {
	ctx := cmd.Context()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	fl, err := c.WaitFlow(ctx, id, 200*time.Millisecond)
	switch {
	case errors.Is(err, sdk.ErrFlowFailed):
		return nil, &exitError{code: 1, err: fmt.Errorf("flow %d failed: %s", id, fl.Description)}
	case err != nil && cmd.Context().Err() == nil && ctx.Err() != nil:
		return nil, &exitError{code: exitUnavailable, err: fmt.Errorf("flow %d still running after %v (coffer flow %d tells when it ends)", id, f.timeout, id)}
	}
	return fl, err
}

func newSecretRotateCmd(conn *connFlags) *cobra.Command {
	var fw flowWait
	var sel selectorFlags
	cmd := nameCmd(conn, "rotate NAME", "Rotate a secret now (RotateProductSecret)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			name := args[0]
			var ro *sdk.RolloutSelector
			if sel.given(cmd) {
				s, err := sel.selector()
				if err != nil {
					return err
				}
				ro = &s
			}
			id, err := c.RotateProductSecret(cmd.Context(), name, ro)
			if err != nil {
				return err
			}
			if !fw.wait {
				return p.print(flowJSON{SecretName: name, FlowID: id}, func(w io.Writer) {
					fmt.Fprintf(w, "Started the rotation of %s: flow %d (coffer flow %d)\n", name, id, id)
				})
			}
			fl, err := fw.await(cmd, c, id)
			if err != nil {
				return err
			}
			return p.print(toFlowJSON(name, fl), func(w io.Writer) { fmt.Fprintf(w, "Rotated %s (flow %d)\n", name, id) })
		})
	cmd.Long = `Rotate a secret now: a product or SSH key pair secret, or one given a
rotator with rotation-set --rotator. The rotation runs on the server as a
flow; --wait waits for it (exit 1 if it failed and was rolled back, 6 if it
is still running after --wait-timeout).

With --user, --role, --tag or --percent, the new version is rolled out to
those callers only, instead of becoming current for all: promote it with
coffer secret rollout promote, or abandon it.`
	cmd.Example = `  coffer secret rotate db-orders --wait
  coffer secret rotate api-token --user ci-canary --wait`
	fw.register(cmd.Flags(), "rotation")
	sel.register(cmd.Flags())
	return cmd
}

func newSecretRotationCmd(conn *connFlags) *cobra.Command {
	return nameCmd(conn, "rotation NAME", "Show a secret's rotation schedule and history",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			d, err := c.DescribeRotationDetail(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			h, err := c.DescribeRotationHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printRotation(p, args[0], d, h)
		})
}

// rotationJSON is a secret's rotation as JSON output, in Tencent's names.
type rotationJSON struct {
	SecretName          string
	EnableRotation      bool
	Frequency           int
	LatestRotateTime    string
	NextRotateBeginTime string
	VersionIDs          []string
	Accounts            []accountJSON
}

type accountJSON struct {
	AccountName string
	Host        []string
	Version     string
	RotatedTime string
}

func printRotation(p *printer, name string, d *sdk.RotationDetail, h *sdk.RotationHistory) error {
	out := rotationJSON{SecretName: name, EnableRotation: d.Enabled, Frequency: d.Days, LatestRotateTime: timeString(d.LastRotate),
		NextRotateBeginTime: timeString(d.NextRotate), VersionIDs: h.VersionIDs, Accounts: []accountJSON{}}
	if out.VersionIDs == nil {
		out.VersionIDs = []string{}
	}
	for _, a := range h.Accounts {
		out.Accounts = append(out.Accounts, accountJSON{a.Name, a.Hosts, a.VersionID, timeString(a.Rotated)})
	}
	return p.print(out, func(w io.Writer) {
		state := "off"
		if d.Enabled {
			state = fmt.Sprintf("on, every %d days", d.Days)
		}
		for _, row := range [][2]string{{"Name", name}, {"Rotation", state}, {"Last rotated", out.LatestRotateTime},
			{"Next rotation", out.NextRotateBeginTime}, {"Earlier versions", strings.Join(out.VersionIDs, ", ")}} {
			if row[1] != "" {
				fmt.Fprintf(w, "%s:\t%s\n", row[0], row[1])
			}
		}
		if len(out.Accounts) > 0 {
			fmt.Fprintln(w, "\nACCOUNT\tHOSTS\tVERSION\tROTATED")
			for _, a := range out.Accounts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.AccountName, strings.Join(a.Host, ","), a.Version, a.RotatedTime)
			}
		}
	})
}

func newSecretRotationSetCmd(conn *connFlags) *cobra.Command {
	var enable, disable bool
	var in sdk.RotationStatusInput
	var begin string
	cmd := nameCmd(conn, "rotation-set NAME", "Turn a secret's scheduled rotation on or off (UpdateRotationStatus)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if enable == disable {
				return usageErr(errors.New("give --enable or --disable"))
			}
			if cmd.Flags().Changed("days") && (in.Days < 30 || in.Days > 365) {
				return usageErr(errors.New("--days is 30 to 365"))
			}
			var err error
			if in.Begin, err = parseBegin(begin); err != nil {
				return err
			}
			in.Name, in.Enable = args[0], enable
			if err := c.UpdateRotationStatus(cmd.Context(), in); err != nil {
				return err
			}
			d, err := c.DescribeRotationDetail(cmd.Context(), in.Name)
			if err != nil {
				return err
			}
			return printSchedule(p, in.Name, d)
		})
	cmd.Long = `Turn a secret's scheduled rotation on (--enable) or off (--disable).

--days sets the period (30 to 365; default 30), --begin the first
rotation (RFC 3339, or "2006-01-02 15:04:05" in UTC; default: --days from
now). --rotator gives a secret that is not a product or SSH key pair secret
a rotator: coffer:random (a new random value), coffer:ssh,
coffer:postgresql-single, coffer:postgresql-alternating,
coffer:mysql-single, coffer:mysql-alternating, or an https:// webhook URL.`
	cmd.Example = `  coffer secret rotation-set api-token --enable --rotator coffer:random --days 30
  coffer secret rotation-set db-orders --enable --begin "2026-07-01 03:00:00"
  coffer secret rotation-set api-token --disable`
	f := cmd.Flags()
	f.BoolVar(&enable, "enable", false, "turn scheduled rotation on")
	f.BoolVar(&disable, "disable", false, "turn scheduled rotation off")
	f.IntVar(&in.Days, "days", 0, "rotate every N days, 30 to 365 (default: the secret's, else 30)")
	f.StringVar(&begin, "begin", "", `first rotation: RFC 3339 or "2006-01-02 15:04:05" UTC`)
	f.StringVar(&in.Function, "rotator", "", "coffer:random, coffer:ssh, coffer:postgresql-single|alternating, coffer:mysql-single|alternating, or an https:// URL")
	return cmd
}

// printSchedule prints a secret's rotation schedule after rotation-set.
func printSchedule(p *printer, name string, d *sdk.RotationDetail) error {
	out := struct {
		SecretName          string
		EnableRotation      bool
		Frequency           int
		NextRotateBeginTime string
	}{name, d.Enabled, d.Days, timeString(d.NextRotate)}
	return p.print(out, func(w io.Writer) {
		if !d.Enabled {
			fmt.Fprintf(w, "Rotation of %s is off\n", name)
			return
		}
		fmt.Fprintf(w, "Rotation of %s is on, every %d days; next at %s\n", name, d.Days, out.NextRotateBeginTime)
	})
}

// parseBegin reads --begin: RFC 3339, or Tencent's "2006-01-02 15:04:05"
// in UTC; "" is the zero time.
func parseBegin(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateTime, s, time.UTC)
	if err != nil {
		return time.Time{}, usageErr(fmt.Errorf(`--begin %q is not RFC 3339 or "2006-01-02 15:04:05"`, s))
	}
	return t, nil
}

// newFlowCmd is `coffer flow FLOWID`: the state of an asynchronous flow.
func newFlowCmd() *cobra.Command {
	conn := &connFlags{}
	var fw flowWait
	cmd := &cobra.Command{
		Use:   "flow FLOWID",
		Short: "Show the state of a rotation flow (DescribeAsyncRequestInfo)",
		Args:  exactArgs(1, "one flow id"),
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr(fmt.Errorf("flow id %q is not a positive number", args[0]))
			}
			var fl *sdk.Flow
			if fw.wait {
				fl, err = fw.await(cmd, c, id)
			} else {
				fl, err = c.DescribeAsyncRequestInfo(cmd.Context(), id)
			}
			if err != nil {
				return err
			}
			return p.print(toFlowJSON("", fl), func(w io.Writer) { fmt.Fprintf(w, "Flow %d: %s (%s)\n", id, fl.State, fl.Description) })
		}),
	}
	cmd.Long = `Show the state of an asynchronous flow: a rotation (coffer secret rotate),
a product secret's creation or the deletion of its accounts. The state is
running, succeeded or failed (TaskStatus 0, 1, 2), with a description.
--wait waits until it ends (exit 1 if it failed).`
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	conn.register(cmd.Flags())
	fw.register(cmd.Flags(), "flow")
	return cmd
}
