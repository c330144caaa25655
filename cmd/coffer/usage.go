package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/usage"
)

func newUsageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Report metered usage and price it (see docs/usage.md)",
		Args:  noArgs,
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.AddCommand(newUsageReportCmd(), newUsageStatementCmd())
	return cmd
}

// usageFlags are the flags both usage commands share.
type usageFlags struct {
	dataDir, account, output string
	noRoll                   bool
}

func (f *usageFlags) register(cmd *cobra.Command, outputs string) {
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data", "./coffer-data", "data directory")
	fl.StringVar(&f.account, "account", "", "account id (required)")
	fl.StringVar(&f.output, "output", "table", outputs)
	fl.BoolVar(&f.noRoll, "no-roll", false, "report only what the server rolled up; by default audit events not counted yet are counted first")
}

func newUsageReportCmd() *cobra.Command {
	var f usageFlags
	var from, to, granularity string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Print an account's usage from a data directory",
		Long: `Print an account's metered usage (calls by action and result, secret-hours)
over the hours starting in [--from, --to), read from a data directory. Dates
are YYYY-MM-DD or RFC 3339, in UTC; the default is the current month.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := usage.ParseGranularity(granularity)
			if err != nil {
				return usageErr(err)
			}
			start, end, err := parseWindow(from, to)
			if err != nil {
				return usageErr(err)
			}
			rep, err := readReport(cmd, f, start, end)
			if err != nil {
				return err
			}
			return printReport(cmd.OutOrStdout(), f.output, rep.By(g))
		},
	}
	f.register(cmd, "table, csv or json")
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "first day (default: the first of this month)")
	fl.StringVar(&to, "to", "", "end, excluded (default: a month after --from)")
	fl.StringVar(&granularity, "granularity", "hour", "hour, day or month")
	return cmd
}

func newUsageStatementCmd() *cobra.Command {
	var f usageFlags
	var month, prices string
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Price an account's usage of one calendar month",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := time.Parse("2006-01", month)
			if err != nil {
				return usageErr(fmt.Errorf("--month is YYYY-MM"))
			}
			if prices == "" {
				return usageErr(fmt.Errorf("--prices is required"))
			}
			p, err := usage.LoadPrices(prices)
			if err != nil {
				return failed(err)
			}
			rep, err := readReport(cmd, f, m, m.AddDate(0, 1, 0))
			if err != nil {
				return err
			}
			return printStatement(cmd.OutOrStdout(), f.output, p.Statement(rep, m))
		},
	}
	f.register(cmd, "table or json")
	cmd.Flags().StringVar(&month, "month", "", "the month, YYYY-MM (required)")
	cmd.Flags().StringVar(&prices, "prices", "", "price list, a JSON file (required)")
	return cmd
}

// readReport opens the data directory, counts the audit events not counted
// yet (unless --no-roll) and reads the account's hourly report.
func readReport(cmd *cobra.Command, f usageFlags, from, to time.Time) (usage.Report, error) {
	if f.account == "" {
		return usage.Report{}, usageErr(fmt.Errorf("--account is required"))
	}
	ctx := cmd.Context()
	st, err := openData(ctx, f.dataDir)
	if err != nil {
		return usage.Report{}, err
	}
	defer st.Close()
	if !f.noRoll {
		if err := (&usage.Roller{Store: st}).RollCalls(ctx); err != nil {
			return usage.Report{}, failed(err)
		}
	}
	rep, err := (&usage.Reader{Store: st}).Report(ctx, f.account, from, to)
	if err != nil {
		return usage.Report{}, failed(err)
	}
	return rep, nil
}

// parseWindow reads --from and --to; both default to the current month.
func parseWindow(from, to string) (time.Time, time.Time, error) {
	start := usage.MonthStart(time.Now())
	if from != "" {
		t, err := parseDay(from)
		if err != nil {
			return start, start, fmt.Errorf("--from: %w", err)
		}
		start = t
	}
	end := usage.MonthStart(start).AddDate(0, 1, 0)
	if to != "" {
		t, err := parseDay(to)
		if err != nil {
			return start, end, fmt.Errorf("--to: %w", err)
		}
		end = t
	}
	if !start.Before(end) {
		return start, end, fmt.Errorf("--from must be before --to")
	}
	return start, end, nil
}

func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("want YYYY-MM-DD or an RFC 3339 time, got %q", s)
	}
	return t.UTC(), nil
}

func printReport(w io.Writer, output string, rep usage.Report) error {
	switch output {
	case "json":
		return json.NewEncoder(w).Encode(rep)
	case "csv":
		return reportCSV(w, rep)
	case "table":
		return reportTable(w, rep)
	}
	return usageErr(fmt.Errorf("--output is table, csv or json"))
}

// reportCSV writes one row per call count and per secret-hours figure:
// kind (calls or secret_hours), time, region, family, action, result, value.
func reportCSV(w io.Writer, rep usage.Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "time", "region", "family", "action", "result", "value"})
	for _, c := range rep.Calls {
		_ = cw.Write([]string{"calls", c.Time.Format(time.RFC3339), c.Region, c.Family, c.Action, c.Result, strconv.FormatInt(c.Calls, 10)})
	}
	for _, s := range rep.Secrets {
		_ = cw.Write([]string{"secret_hours", s.Time.Format(time.RFC3339), s.Region, "", "", "", strconv.FormatInt(s.SecretHours, 10)})
	}
	cw.Flush()
	return cw.Error()
}

func reportTable(w io.Writer, rep usage.Report) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account %s, %s to %s, by %s\n\n", rep.Account, rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Granularity)
	fmt.Fprintln(tw, "TIME\tREGION\tFAMILY\tACTION\tRESULT\tCALLS")
	for _, c := range rep.Calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", c.Time.Format(time.RFC3339), c.Region, c.Family, c.Action, c.Result, c.Calls)
	}
	fmt.Fprintln(tw, "\nTIME\tREGION\tSECRET-HOURS")
	for _, s := range rep.Secrets {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", s.Time.Format(time.RFC3339), s.Region, s.SecretHours)
	}
	fmt.Fprintf(tw, "\ntotal calls\t%d\napi calls\t%d\nsecret-hours\t%d\nrotations\t%d\n",
		rep.TotalCalls, rep.APICalls, rep.TotalSecretHours, rep.Rotations)
	return tw.Flush()
}

func printStatement(w io.Writer, output string, st usage.Statement) error {
	switch output {
	case "json":
		return json.NewEncoder(w).Encode(st)
	case "table":
	default:
		return usageErr(fmt.Errorf("--output is table or json"))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "statement for account %s, %s (%s)\n\n", st.Account, st.Month, st.Currency)
	fmt.Fprintln(tw, "ITEM\tQUANTITY\tUNIT\tUNIT PRICE\tAMOUNT\t")
	for _, it := range st.Items {
		fmt.Fprintf(tw, "%s\t%.4f\t%s\t%g\t%.2f\t\n", it.Item, it.Quantity, it.Unit, it.UnitPrice, it.Amount)
	}
	fmt.Fprintf(tw, "total\t\t\t\t%.2f\t\n", st.Total)
	return tw.Flush()
}
