package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

func newSecretSSHCmd(conn *connFlags) *cobra.Command {
	cmd := groupCmd("ssh", "Create and read SSH key pair secrets")
	cmd.Long = `SSH key pair secrets: Coffer generates the key pair (ed25519, or RSA),
keeps it as a secret, and rotates it with coffer secret rotate. The
private key is written only to a file (--private-key-file, mode 0600) or,
with --show-private, to standard output.`
	cmd.AddCommand(newSSHCreateCmd(conn), newSSHGetCmd(conn))
	return cmd
}

func newSSHCreateCmd(conn *connFlags) *cobra.Command {
	var in sdk.SSHKeyPairInput
	var tags []string
	cmd := nameCmd(conn, "create NAME", "Generate an SSH key pair and keep it as a secret (CreateSSHKeyPairSecret)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if in.Algorithm != "" && in.Algorithm != "ed25519" && in.Algorithm != "rsa" {
				return usageErr(fmt.Errorf("--algorithm is ed25519 or rsa, not %q", in.Algorithm))
			}
			var err error
			if in.Tags, err = parseTags(tags); err != nil {
				return err
			}
			in.Name = args[0]
			ref, err := c.CreateSSHKeyPairSecret(cmd.Context(), in)
			if err != nil {
				return err
			}
			out := map[string]string{"SecretName": ref.Name, "SSHKeyID": ref.KeyID, "SSHKeyName": ref.KeyName}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Created SSH key pair secret %s, key %s (%s)\n", ref.Name, ref.KeyID, ref.KeyName)
			})
		})
	cmd.ValidArgsFunction = nil
	cmd.Example = `  coffer secret ssh create deploy-key --key-name deploy
  coffer secret ssh create legacy-key --algorithm rsa --bits 4096`
	f := cmd.Flags()
	f.StringVar(&in.Algorithm, "algorithm", "", "ed25519 (default) or rsa")
	f.IntVar(&in.KeyBits, "bits", 0, "RSA key size (default: the server's)")
	f.StringVar(&in.KeyName, "key-name", "", "key name: up to 25 of A-Z a-z 0-9 _ (default: from the key id)")
	f.StringVar(&in.Description, "description", "", "description")
	f.Int64Var(&in.ProjectID, "project-id", 0, "Tencent project id recorded with the key")
	f.StringVar(&in.KmsKeyID, "kms-key-id", "", "CMK protecting the secret (default: the account's key)")
	f.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	return cmd
}

// sshKeyJSON is an SSH key pair as JSON output; PrivateKey only with
// --show-private.
type sshKeyJSON struct {
	SecretName        string
	SSHKeyID          string
	SSHKeyName        string
	PublicKey         string
	ProjectID         int64
	SSHKeyDescription string
	PrivateKey        string `json:",omitempty"`
	PrivateKeyFile    string `json:",omitempty"`
}

func newSSHGetCmd(conn *connFlags) *cobra.Command {
	var keyFile string
	var show bool
	cmd := nameCmd(conn, "get NAME", "Print an SSH key pair secret's public key; write the private key to a file (GetSSHKeyPairValue)",
		func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if keyFile == "-" {
				return usageErr(errors.New("--private-key-file names a file; use --show-private for standard output"))
			}
			k, err := c.GetSSHKeyPairValue(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := sshKeyJSON{SecretName: args[0], SSHKeyID: k.KeyID, SSHKeyName: k.KeyName, PublicKey: k.PublicKey,
				ProjectID: k.ProjectID, SSHKeyDescription: k.Description}
			if keyFile != "" {
				if err := writeFileAtomic(keyFile, k.PrivateKey.Bytes(), 0o600); err != nil {
					return failed(err)
				}
				out.PrivateKeyFile = keyFile
			}
			if show {
				out.PrivateKey = k.PrivateKey.Text()
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintln(w, k.PublicKey)
				if show {
					fmt.Fprint(w, k.PrivateKey.Text())
				}
			})
		})
	cmd.Long = `Print the public key of an SSH key pair secret (one authorized_keys line).
--private-key-file FILE writes the private key to FILE with mode 0600,
replacing it; --show-private prints it too (JSON: PrivateKey).`
	cmd.Example = `  coffer secret ssh get deploy-key >> ~/.ssh/authorized_keys
  coffer secret ssh get deploy-key --private-key-file ~/.ssh/deploy_key`
	cmd.Flags().StringVar(&keyFile, "private-key-file", "", "write the private key to this file (mode 0600)")
	cmd.Flags().BoolVar(&show, "show-private", false, "print the private key to standard output as well")
	return cmd
}
