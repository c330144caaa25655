package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

// newCompletionCmd prints cobra's completion scripts. Secret-name
// arguments complete from the server (with the connection settings in
// effect when the shell asks).
func newCompletionCmd() *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Load it now or for every session:

  bash:  source <(coffer completion bash)
         coffer completion bash > /etc/bash_completion.d/coffer
  zsh:   coffer completion zsh > "${fpath[1]}/_coffer"
  fish:  coffer completion fish > ~/.config/fish/completions/coffer.fish

Secret names complete from the server named by the environment or the
default profile.`,
		ValidArgs: shells,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(shells, args[0]) {
				return usageErr(fmt.Errorf("name one shell: bash, zsh, fish or powershell"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			}
			return root.GenPowerShellCompletionWithDesc(w)
		},
	}
}
