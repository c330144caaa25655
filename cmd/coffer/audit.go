package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	storeopen "github.com/coffer-secrets/coffer/internal/store/open"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// Exit statuses of coffer audit (and of any command that returns an exitError).
const (
	exitProblem = 1 // the audit chain does not verify
	exitFailed  = 2 // the check could not run: no database, an unreadable file
	exitUsage   = 3 // wrong flags or arguments
)

// exitError is an error with the status the process should exit with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode returns the status to exit with after err: an exitError's, else 1.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// noArgs rejects arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageErr(err)
	}
	return nil
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the audit log",
		Args:  noArgs,
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.AddCommand(newAuditVerifyCmd(), newAuditPublicKeyCmd(), newAuditSearchCmd(), newAuditConsumersCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var dataDir, file, pubHex string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit chain of a data directory or of an exported file",
		Long: `Verify the audit chain: every event's hash, its link to the one before,
contiguous sequence numbers, and every signed checkpoint. It reports the
first altered, missing or reordered event and where it is.

With --data it reads the database in the data directory (no root key is
needed; the checkpoint key is the one stored there, unless --public-key pins
it). With --file it reads an export offline and needs --public-key (print it
with "coffer audit public-key" while the data is trusted).

Exit status: 0 when the chain verifies, 1 when it does not, 2 when it could
not be checked, 3 for a usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" && cmd.Flags().Changed("data") {
				return usageErr(errors.New("give --data or --file, not both"))
			}
			pub, err := parsePublicKey(pubHex, file != "")
			if err != nil {
				return err
			}
			if file != "" {
				return verifyFile(cmd.Context(), cmd.OutOrStdout(), file, pub)
			}
			return verifyData(cmd.Context(), cmd.OutOrStdout(), dataDir, pub)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "./coffer-data", "data directory whose database to verify")
	f.StringVar(&file, "file", "", "exported JSON-lines file to verify instead")
	f.StringVar(&pubHex, "public-key", "", "checkpoint public key in hex (required with --file)")
	return cmd
}

// parsePublicKey decodes --public-key; nil when it is absent and optional.
func parsePublicKey(s string, required bool) (ed25519.PublicKey, error) {
	if s == "" {
		if required {
			return nil, usageErr(errors.New("--file needs --public-key (see coffer audit public-key)"))
		}
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, usageErr(fmt.Errorf("--public-key is %d hex digits", 2*ed25519.PublicKeySize))
	}
	return b, nil
}

func verifyFile(ctx context.Context, out io.Writer, path string, pub ed25519.PublicKey) error {
	f, err := os.Open(path)
	if err != nil {
		return failed(err)
	}
	defer f.Close()
	return verified(out, pub)(audit.Verify(ctx, audit.FileSource(f), pub))
}

func verifyData(ctx context.Context, out io.Writer, dir string, pub ed25519.PublicKey) error {
	st, err := openData(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	if pub == nil {
		if pub, err = storedPublicKey(ctx, st); err != nil {
			return failed(err)
		}
	}
	return verified(out, pub)(audit.Verify(ctx, audit.StoreSource(st), pub))
}

// verified prints a verification's outcome and returns the command's error.
func verified(out io.Writer, pub ed25519.PublicKey) func(audit.Report, error) error {
	return func(rep audit.Report, err error) error {
		if err != nil {
			return failed(fmt.Errorf("verify: %w", err))
		}
		span := "no events"
		if rep.Events > 0 {
			span = fmt.Sprintf("%s (seq %d to %d)", count(rep.Events, "event"), rep.FirstSeq, rep.LastSeq)
		}
		cps := count(rep.Checkpoints, "checkpoint")
		if rep.Problem == nil {
			fmt.Fprintf(out, "audit chain intact: %s, %s signed by key %s\n", span, cps, audit.KeyID(pub))
			return nil
		}
		fmt.Fprintf(out, "audit chain NOT intact: %s\nbefore it: %s, %s\n", rep.Problem, span, cps)
		return &exitError{code: exitProblem, err: errors.New("the audit chain does not verify")}
	}
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func newAuditPublicKeyCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Print the checkpoint public key, for verifying exports offline",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openData(cmd.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			pub, err := storedPublicKey(cmd.Context(), st)
			if err != nil {
				return failed(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./coffer-data", "data directory")
	return cmd
}

// openData opens the database in dir, which must exist: opening a missing
// one would create it. With COFFER_STORE set (postgres://…, sqlite:PATH),
// it opens that store instead, so the offline commands work on a cluster's
// database too.
func openData(ctx context.Context, dir string) (store.Store, error) {
	if addr := os.Getenv("COFFER_STORE"); addr != "" {
		st, err := storeopen.Open(ctx, addr, dir)
		if err != nil {
			return nil, failed(fmt.Errorf("open %s: %w", storeopen.Redact(addr), err))
		}
		return st, nil
	}
	path := filepath.Join(dir, "coffer.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, failed(fmt.Errorf("no database in %s", dir))
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, failed(err)
	}
	return st, nil
}

func storedPublicKey(ctx context.Context, st store.Store) (ed25519.PublicKey, error) {
	var pub ed25519.PublicKey
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		pub, err = audit.PublicKey(ctx, tx)
		return err
	})
	return pub, err
}
