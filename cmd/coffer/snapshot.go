package main

import (
	"bufio"
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

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	rootopen "github.com/coffer-secrets/coffer/internal/keys/root/open"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/snapshot"
	"github.com/coffer-secrets/coffer/internal/store"
	storeopen "github.com/coffer-secrets/coffer/internal/store/open"
)

// snapshotFlags are the flags the snapshot commands share.
type snapshotFlags struct {
	dataDir, storeAddr, rootKey, output, note string
	force                                     bool
}

func (f *snapshotFlags) register(cmd *cobra.Command, withStore bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data", "./coffer-data", "the data directory")
	if withStore {
		fl.StringVar(&f.storeAddr, "store", "", "the store: sqlite:PATH or postgres://… (default the database in --data)")
	}
	fl.StringVar(&f.rootKey, "root-key", "", "the root key's spec, e.g. file:PATH, pkcs11:…, awskms:… (default file:DATA/root.key)")
	fl.StringVarP(&f.output, "output", "o", "table", "table or json")
}

// newOperatorSnapshotCmd is coffer operator snapshot: save, restore and
// verify encrypted snapshots of a whole store (internal/snapshot).
func newOperatorSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save, restore and verify encrypted snapshots of a whole store",
		Long: `Save, restore and verify snapshots: one file holding every record of a
store (secrets, versions, keys as the root key wraps them, IAM, audit, usage,
settings), consistent, compressed and encrypted under a data key that the root
key wraps. A snapshot of SQLite restores into PostgreSQL and back. Only the
root key that saved a snapshot can restore it: back the key up apart.
See docs/operations.md, "Backup and restore with snapshots".`,
		Args: noArgs,
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.AddCommand(newSnapshotSaveCmd(), newSnapshotRestoreCmd(), newSnapshotVerifyCmd())
	return cmd
}

func newSnapshotSaveCmd() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a snapshot of a store, while its servers run",
		Long: `Save a snapshot of the store to FILE ("-" for standard output). The servers
keep running: the snapshot is read in one read transaction, a consistent state
of the whole store, while writes go on. The file is written beside FILE and
renamed into place once complete, so FILE is never a partial snapshot.

Exit status: 0 when saved, 2 when it failed, 3 for a usage error.`,
		Args: exactArgs(1, "one snapshot FILE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runSnapshotSave(cmd, f, args[0]) },
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&f.note, "note", "", "a note to keep in the snapshot's header (not encrypted)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace FILE if it exists")
	return cmd
}

func newSnapshotRestoreCmd() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a snapshot into a new, empty store",
		Long: `Restore the snapshot in FILE ("-" for standard input) into a new store: by
default a new database in --data (created, with the directory, when absent),
or the empty database --store names. A store that holds any record is refused:
restore replaces and merges nothing. The whole file is verified in the
transaction that loads it, so a damaged file leaves the store as it was.

Copy the source's root key first (e.g. its root.key into the new --data), or
name it with --root-key: the snapshot opens only with it, and the restored
database needs it too.

Exit status: 0 when restored, 1 when the file is damaged, altered or the root
key does not open it, 2 when the restore failed otherwise, 3 for a usage error.`,
		Args: exactArgs(1, "one snapshot FILE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runSnapshotRestore(cmd, f, args[0]) },
	}
	f.register(cmd, true)
	return cmd
}

func newSnapshotVerifyCmd() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a snapshot without restoring it",
		Long: `Check the snapshot in FILE ("-" for standard input) as a restore would,
storing nothing: the header, the data key (which the root key must unwrap),
every chunk's authentication, the rows' SHA-256 and each table's row count.

Exit status: 0 when the snapshot is intact, 1 when it is damaged, altered or
the root key does not open it, 2 when it could not be checked, 3 for a usage
error.`,
		Args: exactArgs(1, "one snapshot FILE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runSnapshotVerify(cmd, f, args[0]) },
	}
	f.register(cmd, false)
	return cmd
}

func runSnapshotSave(cmd *cobra.Command, f snapshotFlags, path string) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openOperatorStore(ctx, f.storeAddr, f.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	rk, closeKey, err := f.openRoot(ctx)
	if err != nil {
		return err
	}
	defer closeKey()
	if err := server.VerifyRootKey(ctx, st, rk); err != nil {
		return failed(err)
	}
	meta := snapshot.Header{Backend: backendName(f.storeAddr), Note: f.note}
	var rep snapshot.Report
	err = writeAtomically(cmd.OutOrStdout(), path, f.force, func(w io.Writer) error {
		rep, err = snapshot.Save(ctx, st, w, rk, meta)
		return err
	})
	if err != nil {
		return failed(fmt.Errorf("save the snapshot: %w", err))
	}
	return printSnapshot(reportOut(cmd, path), f.output, "saved", path, rep)
}

func runSnapshotRestore(cmd *cobra.Command, f snapshotFlags, path string) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rk, closeKey, err := f.openRoot(ctx)
	if err != nil {
		return err
	}
	defer closeKey()
	in, closeIn, err := openInput(cmd, path)
	if err != nil {
		return err
	}
	defer closeIn()
	st, discard, err := openTarget(ctx, f.storeAddr, f.dataDir)
	if err != nil {
		return err
	}
	rep, err := snapshot.Restore(ctx, st, in, rk)
	if err != nil {
		st.Close()
		discard()
		return snapshotErr("restore", err)
	}
	if err := server.VerifyRootKey(ctx, st, rk); err != nil {
		// The key opened the snapshot but is not the database's own: a
		// server needs the database's (--root-key-previous may help).
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", err)
	}
	st.Close()
	return printSnapshot(cmd.OutOrStdout(), f.output, "restored", path, rep)
}

func runSnapshotVerify(cmd *cobra.Command, f snapshotFlags, path string) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rk, closeKey, err := f.openRoot(ctx)
	if err != nil {
		return err
	}
	defer closeKey()
	in, closeIn, err := openInput(cmd, path)
	if err != nil {
		return err
	}
	defer closeIn()
	rep, err := snapshot.Verify(ctx, in, rk)
	if err != nil {
		return snapshotErr("verify", err)
	}
	return printSnapshot(cmd.OutOrStdout(), f.output, "intact", path, rep)
}

func (f snapshotFlags) check() error {
	if f.output != "table" && f.output != "json" {
		return usageErr(errors.New("--output is table or json"))
	}
	return nil
}

// openRoot opens --root-key, by default the key file in --data. It never
// creates a key: a snapshot under a key nobody keeps is lost.
func (f snapshotFlags) openRoot(ctx context.Context) (root.Provider, func(), error) {
	raw := f.rootKey
	if raw == "" {
		raw = "file:" + filepath.Join(f.dataDir, "root.key")
	}
	spec, err := rootopen.ParseSpec(raw)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--root-key: %w", err))
	}
	spec.File.NoCreate, spec.PKCS11.Create = true, false
	rk, err := rootopen.Open(ctx, spec)
	if err != nil {
		return nil, nil, failed(fmt.Errorf("open the root key (%s): %w", raw, err))
	}
	return rk, func() {
		if c, ok := rk.(io.Closer); ok {
			_ = c.Close()
		}
	}, nil
}

// backendName names the store addr opens, for the snapshot's header.
func backendName(addr string) string {
	if storeopen.IsPostgres(addr) {
		return "postgres"
	}
	return "sqlite"
}

// openTarget opens the store to restore into, creating an SQLite database
// (and --data) when absent. discard removes a database it created, so a
// failed restore leaves no empty database a server would start on.
func openTarget(ctx context.Context, addr, dataDir string) (store.Store, func(), error) {
	if storeopen.IsPostgres(addr) {
		st, err := storeopen.Open(ctx, addr, dataDir)
		if err != nil {
			return nil, nil, failed(fmt.Errorf("open the store %s: %w", storeopen.Redact(addr), err))
		}
		return st, func() {}, nil
	}
	path, isFile := strings.CutPrefix(addr, "sqlite:")
	if !isFile && addr != "" {
		return nil, nil, usageErr(errors.New("--store is sqlite:PATH or postgres://…"))
	}
	if addr == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, nil, failed(err)
		}
		path = filepath.Join(dataDir, "coffer.db")
	}
	_, err := os.Stat(path)
	created := errors.Is(err, fs.ErrNotExist)
	st, err := storeopen.Open(ctx, addr, dataDir)
	if err != nil {
		return nil, nil, failed(fmt.Errorf("open the store %s: %w", path, err))
	}
	return st, func() {
		if created {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(p)
			}
		}
	}, nil
}

// openInput opens path, or standard input for "-".
func openInput(cmd *cobra.Command, path string) (io.Reader, func(), error) {
	if path == "-" {
		return bufio.NewReaderSize(cmd.InOrStdin(), 1<<20), func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, failed(err)
	}
	return bufio.NewReaderSize(f, 1<<20), func() { f.Close() }, nil
}

// writeAtomically writes a new file at path through fn: into a temporary
// file beside it, synced, then renamed, so path never holds part of a
// file. "-" writes to stdout instead.
func writeAtomically(stdout io.Writer, path string, force bool, fn func(io.Writer) error) error {
	if path == "-" {
		return fn(stdout)
	}
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s exists: give another name, or --force to replace it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := fn(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}

// reportOut is where a command prints its report: stderr when the
// snapshot itself goes to stdout.
func reportOut(cmd *cobra.Command, path string) io.Writer {
	if path == "-" {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

// snapshotErr gives err the exit status of the snapshot commands: 1 when
// the file is damaged or altered, or the root key does not open it.
func snapshotErr(verb string, err error) error {
	err = fmt.Errorf("%s: %w", verb, err)
	if errors.Is(err, snapshot.ErrCorrupt) || fault.Is(err, fault.KeyUnavailable) {
		return &exitError{code: exitProblem, err: err}
	}
	return failed(err)
}

func printSnapshot(w io.Writer, output, verb, path string, rep snapshot.Report) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(rep)
	}
	h := rep.Header
	fmt.Fprintf(w, "snapshot %s %s: format %d, schema %d, taken %s from %s\n",
		path, verb, h.Format, h.Schema, h.Created.Format(time.RFC3339), h.Backend)
	if h.Note != "" {
		fmt.Fprintf(w, "note: %s\n", h.Note)
	}
	fmt.Fprintf(w, "root key: %s\n%s in %d tables, %d bytes, rows SHA-256 %s\n\n",
		h.RootKey, count(int(rep.Rows), "row"), len(h.Tables), rep.Bytes, rep.SHA256)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS")
	for _, t := range h.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", t.Name, t.Rows)
	}
	return tw.Flush()
}
