package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

// newSecretCmd is the secrets CLI over the SDK: one subcommand per SSM
// call a person needs (docs/cli.md).
func newSecretCmd() *cobra.Command {
	conn := &connFlags{}
	cmd := groupCmd("secret", "Create, read and manage secrets on a Coffer server")
	cmd.Long = `Create, read and manage secrets on a Coffer server, over its Tencent SSM API.

The server and credentials come from flags, then the environment
(COFFER_ADDR, COFFER_REGION, COFFER_CACERT, COFFER_SECRET_ID,
COFFER_SECRET_KEY, COFFER_SESSION_TOKEN), then a profile of the config file
(coffer profile --help). Values are read from a file or standard input
(--value-file, --value-stdin); --value works too but leaves the value in
shell history.

Exit status: 0 done, 1 the server refused the call, 2 could not run (an
unreadable file), 3 usage, 4 not found, 5 access denied, 6 Coffer
unreachable or unavailable.`
	conn.register(cmd.PersistentFlags())
	cmd.AddCommand(
		newSecretCreateCmd(conn), newSecretGetCmd(conn), newSecretPutCmd(conn), newSecretUpdateCmd(conn),
		newSecretListCmd(conn), newSecretDescribeCmd(conn), newSecretVersionsCmd(conn),
		newSecretStatusCmd(conn, "disable"), newSecretStatusCmd(conn, "enable"),
		newSecretDeleteCmd(conn), newSecretRestoreCmd(conn),
	)
	addRotationCommands(cmd, conn)
	return cmd
}

// clientRun is the body of a client command.
type clientRun func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error

// withClient resolves the connection settings, then runs fn with a client
// and a printer, mapping SDK errors to exit statuses.
func withClient(conn *connFlags, fn clientRun) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := conn.resolve(cmd)
		if err != nil {
			return err
		}
		c, err := s.client()
		if err != nil {
			return err
		}
		return apiErr(fn(cmd, c, newPrinter(cmd, s), args))
	}
}

// nameCmd is a command on one secret, with secret-name completion.
func nameCmd(conn *connFlags, use, short string, fn clientRun) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              exactArgs(1, "one secret name"),
		ValidArgsFunction: completeSecretNames(conn),
		RunE:              withClient(conn, fn),
	}
}

func newSecretCreateCmd(conn *connFlags) *cobra.Command {
	var val valueFlags
	var in sdk.CreateSecretInput
	var tags []string
	cmd := nameCmd(conn, "create NAME", "Create a secret with its first value",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			v, err := val.read(cmd)
			if err != nil {
				return err
			}
			if in.Tags, err = parseTags(tags); err != nil {
				return err
			}
			in.Name, in.Value = args[0], v
			ref, err := c.CreateSecret(cmd.Context(), in)
			if err != nil {
				return err
			}
			return p.print(refJSON{ref.Name, ref.VersionID}, func(w io.Writer) {
				fmt.Fprintf(w, "Created secret %s, version %s\n", ref.Name, ref.VersionID)
			})
		})
	cmd.ValidArgsFunction = nil
	cmd.Example = `  coffer secret create db-password --value-file ./password.txt --description "orders DB"
  printf %s "$TOKEN" | coffer secret create api-token --value-stdin --tag team=payments
  coffer secret create tls-key --value-file key.der --binary`
	f := cmd.Flags()
	val.register(f)
	f.StringVar(&in.Description, "description", "", "description")
	f.StringVar(&in.VersionID, "version-id", "", "id of the first version (default SSM_Current)")
	f.StringVar(&in.KmsKeyID, "kms-key-id", "", "CMK protecting the secret (default: the account's key)")
	f.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	return cmd
}

func newSecretGetCmd(conn *connFlags) *cobra.Command {
	var versionID string
	var raw bool
	cmd := nameCmd(conn, "get NAME", "Print a secret's value (the current version unless --version-id)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			v, err := getValue(cmd, c, args[0], versionID)
			if err != nil {
				return err
			}
			if raw {
				_, err := p.w.Write(v.Value.Bytes())
				return err
			}
			return p.print(toValueJSON(v), func(w io.Writer) { fmt.Fprintln(w, displayValue(v.Value)) })
		})
	cmd.Long = `Print a secret's value: the current (newest) version, or --version-id.

The table output is the value and a newline (a binary value in base64);
--raw writes the exact bytes and nothing else; --output json prints
SecretName, VersionId and SecretString or SecretBinary (base64).`
	cmd.Example = `  export DB_PASSWORD="$(coffer secret get db-password)"
  coffer secret get tls-key --raw > key.der
  coffer secret get db-password --version-id v1 -o json`
	cmd.Flags().StringVar(&versionID, "version-id", "", "version to read (default: the current one)")
	cmd.Flags().BoolVar(&raw, "raw", false, "write the value's exact bytes, with no newline or encoding")
	return cmd
}

// getValue reads one version, or the current one when versionID is "".
func getValue(cmd *cobra.Command, c *sdk.Client, name, versionID string) (*sdk.SecretValue, error) {
	if versionID == "" {
		return c.GetCurrentSecretValue(cmd.Context(), name)
	}
	return c.GetSecretValue(cmd.Context(), name, versionID)
}

// displayValue is a value as text: binary values in base64.
func displayValue(v sdk.Value) string {
	if v.IsBinary() {
		return base64.StdEncoding.EncodeToString(v.Bytes())
	}
	return v.Text()
}

func newSecretPutCmd(conn *connFlags) *cobra.Command {
	var val valueFlags
	var versionID string
	cmd := nameCmd(conn, "put NAME", "Add a new version and make it current",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			v, err := val.read(cmd)
			if err != nil {
				return err
			}
			ref, err := c.PutSecretValue(cmd.Context(), sdk.PutSecretValueInput{Name: args[0], VersionID: versionID, Value: v})
			if err != nil {
				return err
			}
			return p.print(refJSON{ref.Name, ref.VersionID}, func(w io.Writer) {
				fmt.Fprintf(w, "Put version %s of %s\n", ref.VersionID, ref.Name)
			})
		})
	cmd.Example = `  coffer secret put db-password --value-file ./new-password.txt
  pwgen -s 32 1 | tr -d '\n' | coffer secret put db-password --value-stdin --version-id v2`
	val.register(cmd.Flags())
	cmd.Flags().StringVar(&versionID, "version-id", "", "id of the new version (default: generated from the time)")
	return cmd
}

func newSecretUpdateCmd(conn *connFlags) *cobra.Command {
	var val valueFlags
	var versionID, description string
	cmd := nameCmd(conn, "update NAME", "Change a secret's description, or overwrite a version's value in place",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			return secretUpdate(cmd, c, p, args[0], versionID, description, &val)
		})
	cmd.Long = `Change a secret's description (--description), or overwrite the value of an
existing version in place (a value flag; the current version unless
--version-id). To keep the old value as a version, use put instead.`
	cmd.Example = `  coffer secret update db-password --description "orders DB, primary"
  coffer secret update db-password --version-id v2 --value-file fixed.txt`
	val.register(cmd.Flags())
	cmd.Flags().StringVar(&versionID, "version-id", "", "version to overwrite (default: the current one)")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	return cmd
}

func secretUpdate(cmd *cobra.Command, c *sdk.Client, p *printer, name, versionID, description string, val *valueFlags) error {
	setDesc := cmd.Flags().Changed("description")
	if !setDesc && !val.given(cmd) {
		return usageErr(errors.New("give --description, a value (--value-file, --value-stdin, --value), or both"))
	}
	out := refJSON{SecretName: name}
	if val.given(cmd) {
		v, err := val.read(cmd)
		if err != nil {
			return err
		}
		if versionID == "" {
			cur, err := currentVersion(cmd, c, name)
			if err != nil {
				return err
			}
			versionID = cur
		}
		ref, err := c.UpdateSecret(cmd.Context(), sdk.UpdateSecretInput{Name: name, VersionID: versionID, Value: v})
		if err != nil {
			return err
		}
		out.VersionId = ref.VersionID
	}
	if setDesc {
		if err := c.UpdateDescription(cmd.Context(), name, description); err != nil {
			return err
		}
	}
	return p.print(out, func(w io.Writer) {
		if out.VersionId != "" {
			fmt.Fprintf(w, "Overwrote version %s of %s\n", out.VersionId, name)
		}
		if setDesc {
			fmt.Fprintf(w, "Updated the description of %s\n", name)
		}
	})
}

// currentVersion returns the id of a secret's newest version.
func currentVersion(cmd *cobra.Command, c *sdk.Client, name string) (string, error) {
	vs, err := c.ListSecretVersionIds(cmd.Context(), name)
	if err != nil {
		return "", err
	}
	if len(vs) == 0 {
		return "", &sdk.Error{Action: "ListSecretVersionIds", Code: sdk.CodeNotFound, Message: "secret " + name + " has no versions"}
	}
	return vs[len(vs)-1].ID, nil
}

func newSecretStatusCmd(conn *connFlags, verb string) *cobra.Command {
	short := map[string]string{"disable": "Disable a secret: its value can no longer be read", "enable": "Enable a disabled secret"}[verb]
	return nameCmd(conn, verb+" NAME", short,
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			call, status := c.DisableSecret, sdk.StatusDisabled
			if verb == "enable" {
				call, status = c.EnableSecret, sdk.StatusEnabled
			}
			if err := call(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(map[string]string{"SecretName": args[0], "Status": string(status)}, func(w io.Writer) {
				fmt.Fprintf(w, "%s is %s\n", args[0], status)
			})
		})
}

// parseTags reads KEY=VALUE tags.
func parseTags(in []string) ([]sdk.Tag, error) {
	var out []sdk.Tag
	for _, s := range in {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usageErr(fmt.Errorf("--tag %q is not KEY=VALUE", s))
		}
		out = append(out, sdk.Tag{Key: k, Value: v})
	}
	return out, nil
}

// completeSecretNames completes a secret name argument from ListSecrets.
func completeSecretNames(conn *connFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		s, err := conn.resolve(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		c, err := s.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []cobra.Completion
		for sec, err := range c.AllSecrets(cmd.Context(), sdk.ListSecretsInput{Search: toComplete, Limit: 200}) {
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			if strings.HasPrefix(sec.Name, toComplete) {
				names = append(names, sec.Name)
			}
			if len(names) == 200 {
				break
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
