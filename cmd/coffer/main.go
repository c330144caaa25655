// Command coffer is Coffer's one binary: the server, and (as they land) the
// CLI, the agent and the benchmark tool.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := newRoot().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "coffer:", err)
		os.Exit(exitCode(err))
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "coffer",
		Short:         "Coffer: a self-hosted secrets manager",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newVersionCmd())
	root.AddCommand(newAuditCmd())
	root.AddCommand(newUsageCmd())
	root.AddCommand(newAccountCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newOperatorCmd())
	root.AddCommand(newSecretCmd(), newRunCmd(), newAgentCmd(), newProfileCmd(), newCompletionCmd())
	root.AddCommand(newDBCmd(), newFlowCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "coffer", version) },
	}
}
