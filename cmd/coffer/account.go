package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
)

// newAccountCmd is the operator's tenant management: accounts are created
// on the server's data directory, beside a running server (SQLite allows
// it), and the new root key is printed once.
func newAccountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Create and list accounts (tenants) in a data directory"}
	var dir, output string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an account and print its root access key (shown once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, closeFn, err := openIAM(cmd, dir)
			if err != nil {
				return err
			}
			defer closeFn()
			cred, err := svc.CreateAccount(cmd.Context(), args[0])
			if err != nil {
				return failed(err)
			}
			if output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{
					"AccountId": cred.AccountID, "SecretId": cred.KeyID, "SecretKey": cred.Secret})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "account   %s (%s)\nSecretId  %s\nSecretKey %s\nThe secret key is shown only now; keep it safe.\n",
				cred.AccountID, args[0], cred.KeyID, cred.Secret)
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, closeFn, err := openIAM(cmd, dir)
			if err != nil {
				return err
			}
			defer closeFn()
			as, err := svc.Accounts(cmd.Context())
			if err != nil {
				return failed(err)
			}
			if output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(as)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ACCOUNT\tNAME\tCREATED")
			for _, a := range as {
				fmt.Fprintf(w, "%s\t%s\t%s\n", a.ID, a.Name, a.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
			}
			return w.Flush()
		},
	}
	for _, c := range []*cobra.Command{create, list} {
		c.Flags().StringVar(&dir, "data", "./coffer-data", "the server's data directory")
		c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	}
	cmd.AddCommand(create, list)
	return cmd
}

func openIAM(cmd *cobra.Command, dir string) (*iam.Service, func(), error) {
	st, err := openData(cmd.Context(), dir)
	if err != nil {
		return nil, nil, err
	}
	root, err := keyfile.Open(filepath.Join(dir, "root.key"), false)
	if err != nil {
		st.Close()
		return nil, nil, failed(fmt.Errorf("open the root key: %w", err))
	}
	return &iam.Service{Store: st, Root: root}, func() { st.Close() }, nil
}
