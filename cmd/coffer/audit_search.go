package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
)

// auditSearchFlags select events, as CloudAudit's LookUpEvents does.
type auditSearchFlags struct {
	dataDir, account, output string
	action, resource, keyID  string
	requestID, principal     string
	since                    time.Duration
	limit                    int
}

func newAuditSearchCmd() *cobra.Command {
	var f auditSearchFlags
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Search the audit log of a data directory, newest first",
		Long: `Search the audit log in a data directory (read directly from the database;
no root key is needed). The same search over the API is CloudAudit's
LookUpEvents (see docs/audit.md).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditSearch(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data", "./coffer-data", "data directory")
	fl.StringVar(&f.account, "account", "", "account id (required)")
	fl.StringVar(&f.action, "action", "", "action, e.g. GetSecretValue")
	fl.StringVar(&f.resource, "resource", "", "secret name")
	fl.StringVar(&f.keyID, "access-key", "", "access key id")
	fl.StringVar(&f.requestID, "request-id", "", "request id")
	fl.StringVar(&f.principal, "principal", "", "principal id")
	fl.DurationVar(&f.since, "since", 24*time.Hour, "how far back to look")
	fl.IntVar(&f.limit, "limit", 50, "most events to print")
	fl.StringVar(&f.output, "output", "table", "table or json")
	return cmd
}

func auditSearch(cmd *cobra.Command, f auditSearchFlags) error {
	if f.account == "" {
		return usageErr(fmt.Errorf("--account is required"))
	}
	st, err := openData(cmd.Context(), f.dataDir)
	if err != nil {
		return failed(err)
	}
	defer st.Close()
	q := audit.Query{EventQuery: store.EventQuery{
		Account: f.account, From: time.Now().Add(-f.since), Resource: f.resource,
		AccessKeyID: f.keyID, RequestID: f.requestID, PrincipalID: f.principal, Limit: f.limit,
	}}
	if f.action != "" {
		q.Action = []string{f.action}
	}
	page, err := (&audit.Lookup{Store: st}).Events(cmd.Context(), q)
	if err != nil {
		return failed(err)
	}
	return printEvents(cmd.OutOrStdout(), f.output, page.Events)
}

func printEvents(w io.Writer, output string, evs []*audit.Event) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(evs)
	}
	if output != "table" {
		return usageErr(fmt.Errorf("--output is table or json"))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tPRINCIPAL\tACCESS KEY\tACTION\tRESOURCE\tVERSION\tRESULT\tREQUEST ID")
	for _, e := range evs {
		result := e.ErrorCode
		if result == "" {
			result = "ok"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339),
			strings.TrimSpace(e.PrincipalKind+" "+e.PrincipalID), e.AccessKeyID, e.Family+":"+e.Action,
			e.Resource, e.VersionID, result, e.RequestID)
	}
	return tw.Flush()
}

func newAuditConsumersCmd() *cobra.Command {
	var dataDir, account, region, output string
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "consumers SECRET",
		Short: "Who read which version of a secret (from the audit log of a data directory)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("name one secret"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if account == "" {
				return usageErr(fmt.Errorf("--account is required"))
			}
			st, err := openData(cmd.Context(), dataDir)
			if err != nil {
				return failed(err)
			}
			defer st.Close()
			cs, err := (&audit.Lookup{Store: st}).Consumers(cmd.Context(), account, region, args[0], time.Now().Add(-since), time.Time{})
			if err != nil {
				return failed(err)
			}
			return printConsumers(cmd.OutOrStdout(), output, args[0], cs)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data", "./coffer-data", "data directory")
	fl.StringVar(&account, "account", "", "account id (required)")
	fl.StringVar(&region, "region", "", "region (default: every region)")
	fl.DurationVar(&since, "since", 30*24*time.Hour, "how far back to look")
	fl.StringVar(&output, "output", "table", "table or json")
	return cmd
}

func printConsumers(w io.Writer, output, secret string, cs []audit.Consumer) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(map[string]any{"SecretName": secret, "Consumers": cs})
	}
	if output != "table" {
		return usageErr(fmt.Errorf("--output is table or json"))
	}
	fmt.Fprintf(w, "Secret:     %s\nConsumers:  %d\n\n", secret, len(cs))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINCIPAL\tKIND\tACCESS KEY\tVERSIONS\tREADS\tFIRST READ\tLAST READ")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.PrincipalID, c.PrincipalKind, c.AccessKeyID,
			strings.Join(c.VersionIDs, ","), c.Reads, c.First.Format(time.RFC3339), c.Last.Format(time.RFC3339))
	}
	return tw.Flush()
}
