package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/keys/root"
	rootopen "github.com/coffer-secrets/coffer/internal/keys/root/open"
	"github.com/coffer-secrets/coffer/internal/rekey"
	"github.com/coffer-secrets/coffer/internal/store"
	storeopen "github.com/coffer-secrets/coffer/internal/store/open"
)

// newOperatorCmd is the parent of the commands an operator runs on a data
// directory or store directly, not through the API. Other operator
// subcommands (snapshot, …) register here, beside rekey.
func newOperatorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Operate on a deployment's data directly: root-key rotation",
		Args:  noArgs,
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.AddCommand(newOperatorRekeyCmd())
	cmd.AddCommand(newOperatorSnapshotCmd())
	return cmd
}

// rekeyFlags are the flags of coffer operator rekey.
type rekeyFlags struct {
	dataDir, storeAddr, from, to, output string
}

func newOperatorRekeyCmd() *cobra.Command {
	var f rekeyFlags
	cmd := &cobra.Command{
		Use:   "rekey --to SPEC",
		Short: "Re-wrap everything the root key protects under a new root key",
		Long: `Re-wrap everything the root key protects under a new root key: the
material of every customer master key, the secret half of every access key,
the audit log's keys and the root key-check value. Secret values are not
touched (their data keys are wrapped by CMKs, not by the root key).

Run it while every server runs with --root-key NEW --root-key-previous OLD;
they keep serving meanwhile. Then restart them with --root-key NEW alone.
Each record is re-wrapped in its own transaction, and what the new key
already opens is left alone, so an interrupted run can simply be run again.
Neither key is ever created: both must exist already.

Role sessions issued before the servers dropped the old key stop working
then (see docs/keys.md, "Rotating the root key").

Exit status: 0 when everything is under the new key, 2 when the run failed
or was interrupted (run it again), 3 for a usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRekey(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data", "./coffer-data", "the server's data directory")
	fl.StringVar(&f.storeAddr, "store", "", "the store: sqlite:PATH or postgres://… (default the database in --data)")
	fl.StringVar(&f.to, "to", "", "the new root key's spec, e.g. file:/etc/coffer/root-2.key (required)")
	fl.StringVar(&f.from, "from", "", "the old root key's spec (default file:DATA/root.key)")
	fl.StringVarP(&f.output, "output", "o", "table", "table or json")
	return cmd
}

func runRekey(cmd *cobra.Command, f rekeyFlags) error {
	if f.to == "" {
		return usageErr(errors.New("--to is required: the new root key's spec (docs/keys.md)"))
	}
	if f.output != "table" && f.output != "json" {
		return usageErr(errors.New("--output is table or json"))
	}
	if f.from == "" {
		f.from = "file:" + filepath.Join(f.dataDir, "root.key")
	}
	fromSpec, err := rekeyKeySpec("--from", f.from)
	if err != nil {
		return err
	}
	toSpec, err := rekeyKeySpec("--to", f.to)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openOperatorStore(ctx, f.storeAddr, f.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	from, err := openRekeyKey(ctx, "old", f.from, fromSpec)
	if err != nil {
		return err
	}
	defer closeRekeyKey(from)
	to, err := openRekeyKey(ctx, "new", f.to, toSpec)
	if err != nil {
		return err
	}
	defer closeRekeyKey(to)
	rep, err := rekey.Run(ctx, st, from, to, rekeyProgress(cmd.ErrOrStderr(), 2*time.Second))
	if err != nil {
		if rep.Sealed() > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "stopped after %d sealed values (%d re-wrapped); fix the cause and run again: what is done stays done\n",
				rep.Sealed(), rep.Rewrapped)
		}
		return failed(fmt.Errorf("rekey: %w", err))
	}
	return printRekey(cmd.OutOrStdout(), f.output, rep)
}

// rekeyKeySpec parses a root-key spec for rekey, which never creates a
// key: a typo in a path must fail, not re-wrap everything under a key no
// server knows.
func rekeyKeySpec(flag, s string) (rootopen.Spec, error) {
	spec, err := rootopen.ParseSpec(s)
	if err != nil {
		return spec, usageErr(fmt.Errorf("%s: %w", flag, err))
	}
	spec.File.NoCreate, spec.PKCS11.Create = true, false
	return spec, nil
}

// openOperatorStore opens the store at addr ("" for the database in
// dataDir) for an operator subcommand. An SQLite file must exist already:
// opening a missing one would create it.
func openOperatorStore(ctx context.Context, addr, dataDir string) (store.Store, error) {
	if addr == "" {
		addr = os.Getenv("COFFER_STORE") // as the other offline commands
	}
	switch path, isFile := strings.CutPrefix(addr, "sqlite:"); {
	case storeopen.IsPostgres(addr):
	case addr == "" || isFile:
		if addr == "" {
			path = filepath.Join(dataDir, "coffer.db")
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, failed(fmt.Errorf("no database at %s", path))
		}
	default:
		return nil, usageErr(errors.New("--store is sqlite:PATH or postgres://…"))
	}
	st, err := storeopen.Open(ctx, addr, dataDir)
	if err != nil {
		return nil, failed(fmt.Errorf("open the store %s: %w", storeopen.Redact(addr), err))
	}
	return st, nil
}

// openRekeyKey opens spec, parsed from raw (a spec holds no secret, so
// errors may name it).
func openRekeyKey(ctx context.Context, which, raw string, spec rootopen.Spec) (root.Provider, error) {
	p, err := rootopen.Open(ctx, spec)
	if err != nil {
		return nil, failed(fmt.Errorf("open the %s root key (%s): %w", which, raw, err))
	}
	return p, nil
}

// closeRekeyKey releases a provider that holds resources (a PKCS#11 session pool).
func closeRekeyKey(p root.Provider) {
	if c, ok := p.(io.Closer); ok {
		_ = c.Close()
	}
}

// rekeyProgress returns a progress function that prints the counts at
// most once every interval.
func rekeyProgress(w io.Writer, every time.Duration) func(rekey.Report) {
	last := time.Now()
	return func(r rekey.Report) {
		if time.Since(last) < every {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "rekey: %d CMKs, %d access keys so far; %d sealed values re-wrapped, %d already under the new key\n",
			r.Keys, r.AccessKeys, r.Rewrapped, r.AlreadyNew)
	}
}

func printRekey(w io.Writer, output string, rep rekey.Report) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(rep)
	}
	fmt.Fprintf(w, "Everything the root key protects is now under %s (was %s).\n\n", rep.To, rep.From)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEALED BY THE ROOT KEY\tCOUNT")
	for _, row := range []struct {
		what string
		n    int
	}{
		{"CMKs", rep.Keys}, {"CMK material versions", rep.MaterialVersions}, {"access keys", rep.AccessKeys},
		{"audit keys", rep.AuditKeys}, {"key-check value", rep.CheckValues},
		{"already under the new key", rep.AlreadyNew}, {"re-wrapped now", rep.Rewrapped},
	} {
		fmt.Fprintf(tw, "%s\t%d\n", row.what, row.n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nNext: restart every server with --root-key NEW alone (no --root-key-previous),\nthen back up the new key. Role sessions issued under the old key stop working then.")
	return nil
}
