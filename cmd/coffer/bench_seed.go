package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// newBenchSeedCmd fills a store with many secrets, offline, to measure a
// deployment at scale (listing, memory, start-up) without hours of API calls.
func newBenchSeedCmd() *cobra.Command {
	var dataDir, account, region, prefix string
	var n, batch int
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill a stopped server's store with many secrets for scale measurements",
		Long: `Insert --secrets secrets named PREFIX0000000… into account --account and
--region of the store in --data (or COFFER_STORE), straight into the store, with
the server stopped: metadata only, no versions, so they list and describe but
hold no value. For measuring listing, memory and start-up at scale
(docs/BENCHMARKS.md); never on a production store.`,
		Example: `  coffer bench seed --data ./bench-data --account 200000000002 --secrets 1000000`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if account == "" || n <= 0 {
				return usageErr(fmt.Errorf("--account and a positive --secrets are required"))
			}
			ctx := cmd.Context()
			st, err := openData(ctx, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			start := time.Now()
			base := start.Add(-time.Duration(n) * time.Millisecond).UTC().Truncate(time.Millisecond)
			for done := 0; done < n; {
				k := min(batch, n-done)
				err := st.Update(ctx, func(tx store.Tx) error {
					for i := done; i < done+k; i++ {
						at := base.Add(time.Duration(i) * time.Millisecond)
						id := secrets.NewID(22)
						sec := &store.Secret{ID: id, Account: account, Region: region, Name: fmt.Sprintf("%s%07d", prefix, i),
							Status: store.StatusEnabled, CreatedAt: at, UpdatedAt: at, CreatedBy: account, ResourceID: id}
						if err := tx.InsertSecret(ctx, sec); err != nil {
							return fmt.Errorf("insert %s: %w", sec.Name, err)
						}
					}
					return nil
				})
				if err != nil {
					return failed(err)
				}
				done += k
				fmt.Fprintf(cmd.ErrOrStderr(), "\r%d/%d secrets", done, n)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "\n")
			fmt.Fprintf(cmd.OutOrStdout(), "seeded %d secrets in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "./coffer-data", "data directory (or COFFER_STORE)")
	f.StringVar(&account, "account", "", "the account to hold the secrets")
	f.StringVar(&region, "region", "ap-guangzhou", "the region to hold them")
	f.StringVar(&prefix, "prefix", "seed-", "name prefix")
	f.IntVar(&n, "secrets", 0, "how many secrets")
	f.IntVar(&batch, "batch", 10000, "secrets per transaction")
	return cmd
}
