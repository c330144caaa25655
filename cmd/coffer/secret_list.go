package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

func newSecretListCmd(conn *connFlags) *cobra.Command {
	var in sdk.ListSecretsInput
	var status string
	var tags []string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List secrets, newest first",
		Args:  noArgs,
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, p *printer, _ []string) error {
			var err error
			if in.Status, err = parseStatus(status); err != nil {
				return err
			}
			if in.Tags, err = parseTagFilters(tags); err != nil {
				return err
			}
			if limit < 0 {
				return usageErr(fmt.Errorf("--limit is not negative"))
			}
			in.Limit = 100
			if limit > 0 {
				in.Limit = min(limit, 100)
			}
			secs, err := listSecrets(cmd, c, in, limit)
			if err != nil {
				return err
			}
			return printSecrets(p, secs)
		}),
	}
	cmd.Example = `  coffer secret list
  coffer secret list --search db- --status enabled --tag team=payments -o json`
	f := cmd.Flags()
	f.StringVar(&in.Search, "search", "", "names containing this text (case-sensitive)")
	f.StringVar(&status, "status", "", "enabled, disabled, pending-delete, creating or failed (default: all)")
	f.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE, or KEY for any value (repeatable; all must match)")
	f.BoolVar(&in.Ascending, "asc", false, "oldest first")
	f.IntVar(&limit, "limit", 0, "most secrets to list (0: all)")
	return cmd
}

func listSecrets(cmd *cobra.Command, c *sdk.Client, in sdk.ListSecretsInput, limit int) ([]sdk.Secret, error) {
	secs := []sdk.Secret{}
	for s, err := range c.AllSecrets(cmd.Context(), in) {
		if err != nil {
			return nil, err
		}
		secs = append(secs, s)
		if len(secs) == limit {
			break
		}
	}
	return secs, nil
}

func printSecrets(p *printer, secs []sdk.Secret) error {
	out := make([]secretJSON, len(secs))
	for i, s := range secs {
		out[i] = toSecretJSON(s)
	}
	return p.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "NAME\tSTATUS\tCREATED\tDESCRIPTION")
		for _, s := range secs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Status, timeString(s.CreateTime), oneLine(s.Description))
		}
	})
}

// oneLine keeps a description from breaking a table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var statusNames = map[string]sdk.Status{
	"": "", "enabled": sdk.StatusEnabled, "disabled": sdk.StatusDisabled,
	"pending-delete": sdk.StatusPendingDelete, "pendingdelete": sdk.StatusPendingDelete,
	"creating": sdk.StatusCreating, "failed": sdk.StatusFailed,
}

func parseStatus(s string) (sdk.Status, error) {
	st, ok := statusNames[strings.ToLower(s)]
	if !ok {
		return "", usageErr(fmt.Errorf("--status is enabled, disabled, pending-delete, creating or failed, not %q", s))
	}
	return st, nil
}

// parseTagFilters reads KEY=VALUE or KEY filters; values of one key are ORed.
func parseTagFilters(in []string) ([]sdk.TagFilter, error) {
	var out []sdk.TagFilter
	index := map[string]int{}
	for _, s := range in {
		k, v, hasValue := strings.Cut(s, "=")
		if k == "" {
			return nil, usageErr(fmt.Errorf("--tag %q has no key", s))
		}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, sdk.TagFilter{Key: k})
		}
		if hasValue {
			out[i].Values = append(out[i].Values, v)
		}
	}
	return out, nil
}

func newSecretDescribeCmd(conn *connFlags) *cobra.Command {
	return nameCmd(conn, "describe NAME", "Show a secret's metadata",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			s, err := c.DescribeSecret(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			j := toSecretJSON(*s)
			return p.print(j, func(w io.Writer) {
				for _, row := range [][2]string{
					{"Name", j.SecretName}, {"Description", oneLine(j.Description)}, {"Status", j.Status},
					{"Type", fmt.Sprint(j.SecretType)}, {"KMS key", j.KmsKeyId}, {"Created by", j.CreateUin},
					{"Created", j.CreateTime}, {"Deletes at", j.DeleteTime}, {"Rotation", fmt.Sprint(j.RotationStatus)},
				} {
					if row[1] != "" {
						fmt.Fprintf(w, "%s:\t%s\n", row[0], row[1])
					}
				}
			})
		})
}

func newSecretVersionsCmd(conn *connFlags) *cobra.Command {
	return nameCmd(conn, "versions NAME", "List a secret's versions, oldest first; the last is current",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			vs, err := c.ListSecretVersionIds(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			type versionJSON struct {
				VersionId, CreateTime string
				Current               bool
			}
			out := struct {
				SecretName string
				Versions   []versionJSON
			}{args[0], make([]versionJSON, len(vs))}
			for i, v := range vs {
				out.Versions[i] = versionJSON{v.ID, timeString(v.CreateTime), i == len(vs)-1}
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintln(w, "VERSION\tCREATED\tCURRENT")
				for _, v := range out.Versions {
					cur := ""
					if v.Current {
						cur = "*"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\n", v.VersionId, v.CreateTime, cur)
				}
			})
		})
}

func newSecretDeleteCmd(conn *connFlags) *cobra.Command {
	var days int
	var disable bool
	var versionID string
	cmd := nameCmd(conn, "delete NAME", "Delete a disabled secret after a recovery window, or one version",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			name := args[0]
			if versionID != "" {
				if err := c.DeleteSecretVersion(cmd.Context(), name, versionID); err != nil {
					return err
				}
				return p.print(refJSON{name, versionID}, func(w io.Writer) { fmt.Fprintf(w, "Deleted version %s of %s\n", versionID, name) })
			}
			if disable {
				if err := c.DisableSecret(cmd.Context(), name); err != nil {
					return err
				}
			}
			when, err := c.DeleteSecret(cmd.Context(), name, days)
			if err != nil {
				return err
			}
			return p.print(map[string]string{"SecretName": name, "DeleteTime": timeString(when)}, func(w io.Writer) {
				if days == 0 {
					fmt.Fprintf(w, "Deleted %s\n", name)
					return
				}
				fmt.Fprintf(w, "%s will be deleted at %s; until then, coffer secret restore %s undoes it\n", name, timeString(when), name)
			})
		})
	cmd.Long = `Delete a secret: it must be disabled first (or give --disable). It is purged
after --recovery-days (default 7; 0 purges it now); until then restore
brings it back. With --version-id, delete only that version.`
	cmd.Example = `  coffer secret delete old-token --disable
  coffer secret delete old-token --disable --recovery-days 0
  coffer secret delete db-password --version-id v1`
	f := cmd.Flags()
	f.IntVar(&days, "recovery-days", 7, "days before the purge, 0 to 30 (0 purges now)")
	f.BoolVar(&disable, "disable", false, "disable the secret first")
	f.StringVar(&versionID, "version-id", "", "delete only this version")
	return cmd
}

func newSecretRestoreCmd(conn *connFlags) *cobra.Command {
	return nameCmd(conn, "restore NAME", "Cancel a scheduled deletion (the secret comes back disabled)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if err := c.RestoreSecret(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(map[string]string{"SecretName": args[0], "Status": string(sdk.StatusDisabled)}, func(w io.Writer) {
				fmt.Fprintf(w, "Restored %s (Disabled; coffer secret enable %s to read it)\n", args[0], args[0])
			})
		})
}
