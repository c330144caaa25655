package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

// Exit statuses of the client commands (secret, run, agent, profile),
// extending those of audit.go: 1 the server refused the call (any error
// not below), 2 the command could not run (an unreadable file or config),
// 3 a usage error. docs/cli.md lists them.
const (
	exitNotFound    = 4 // the secret or version does not exist
	exitDenied      = 5 // bad or missing credentials, or a policy that does not allow the call
	exitUnavailable = 6 // Coffer unreachable, unavailable or throttling, after retries
)

// apiError is a client error with the exit status it calls for and the
// SDK's "coffer: " prefix removed (main adds its own).
type apiError struct{ err error }

func (e *apiError) Error() string { return strings.TrimPrefix(e.err.Error(), "coffer: ") }
func (e *apiError) Unwrap() error { return e.err }

// apiErr maps an SDK error to its exit status: nil stays nil.
func apiErr(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err // already classified
	}
	code := 1
	switch {
	case sdk.IsNotFound(err):
		code = exitNotFound
	case sdk.IsDenied(err), errors.Is(err, sdk.ErrNoCredentials):
		code = exitDenied
	case sdk.IsUnavailable(err):
		code = exitUnavailable
	}
	return &exitError{code: code, err: &apiError{err}}
}

// groupCmd returns a command that only holds subcommands: without one it
// prints its help; with an unknown one it is a usage error.
func groupCmd(use, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(errors.New("unknown command " + args[0] + " for coffer " + cmd.Name()))
			}
			return cmd.Help()
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	return cmd
}

// exactArgs requires n arguments, as a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr(errors.New("give " + what))
		}
		return nil
	}
}
