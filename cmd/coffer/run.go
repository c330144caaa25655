package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

// exitCannotRun is the status of coffer run when the command cannot be
// started, as a shell's 127.
const exitCannotRun = 127

func newRunCmd() *cobra.Command {
	conn := &connFlags{}
	var specs []string
	var passCreds bool
	cmd := &cobra.Command{
		Use:   "run --secret NAME[=ENV] ... -- COMMAND [ARG...]",
		Short: "Run a command with secrets in its environment",
		Long: `Run a command with the current values of secrets in its environment. The
values are never printed; errors name secrets, not values.

  --secret NAME           sets NAME upper-cased, '-' and '.' as '_' (db-password: DB_PASSWORD)
  --secret NAME=ENV       sets ENV
  --secret NAME:KEY[=ENV] the secret is a JSON object: sets ENV (default KEY upper-cased)
                          to its KEY member (strings as they are, other JSON as JSON)

Binary values are set in base64. COFFER_SECRET_KEY, COFFER_SECRET_ID and
COFFER_SESSION_TOKEN are removed from the command's environment unless
--pass-credentials. Signals coffer receives (INT, TERM, HUP, QUIT, USR1,
USR2) are forwarded to the command; coffer exits with the command's status
(128+N when a signal N ended it), or 127 when it cannot be started, or
with its own status (docs/cli.md) when a secret cannot be read.`,
		Example: `  coffer run --secret db-password=PGPASSWORD -- psql -h db -U app
  coffer run --secret app-config:api_key=API_KEY --secret app-config:db_url=DATABASE_URL -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 0 || len(args) == 0 {
				return usageErr(errors.New("give the command after --: coffer run --secret NAME -- COMMAND"))
			}
			if len(specs) == 0 {
				return usageErr(errors.New("name at least one --secret"))
			}
			return nil
		},
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, _ *printer, args []string) error {
			env, err := secretEnv(cmd, c, specs)
			if err != nil {
				return err
			}
			exitWith(runChild(args, childEnv(os.Environ(), env, passCreds)))
			return nil
		}),
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	conn.register(cmd.Flags())
	cmd.Flags().StringArrayVarP(&specs, "secret", "s", nil, "secret to expose: NAME, NAME=ENV or NAME:KEY=ENV (repeatable)")
	cmd.Flags().BoolVar(&passCreds, "pass-credentials", false, "leave COFFER_SECRET_ID/KEY and COFFER_SESSION_TOKEN in the command's environment")
	return cmd
}

// envSpec is one --secret: which secret (and JSON member) goes to which
// variable.
type envSpec struct {
	name, key, env string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseEnvSpec(s string) (envSpec, error) {
	ref, env, hasEnv := strings.Cut(s, "=")
	name, key, hasKey := strings.Cut(ref, ":")
	sp := envSpec{name: name, key: key, env: env}
	if !hasEnv {
		sp.env = defaultEnvName(name)
		if hasKey {
			sp.env = defaultEnvName(key)
		}
	}
	switch {
	case name == "" || (hasKey && key == ""):
		return sp, usageErr(fmt.Errorf("--secret %q is not NAME, NAME=ENV or NAME:KEY=ENV", s))
	case !envName.MatchString(sp.env):
		return sp, usageErr(fmt.Errorf("--secret %q: %q is not a valid environment variable name", s, sp.env))
	}
	return sp, nil
}

func defaultEnvName(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(s))
}

// secretEnv reads each secret named once and returns the variables.
func secretEnv(cmd *cobra.Command, c *sdk.Client, specs []string) ([]string, error) {
	values := map[string]*sdk.SecretValue{}
	var env []string
	for _, s := range specs {
		sp, err := parseEnvSpec(s)
		if err != nil {
			return nil, err
		}
		v := values[sp.name]
		if v == nil {
			if v, err = c.GetCurrentSecretValue(cmd.Context(), sp.name); err != nil {
				return nil, err
			}
			values[sp.name] = v
		}
		val, err := envValue(sp, v.Value)
		if err != nil {
			return nil, err
		}
		env = append(env, sp.env+"="+val)
	}
	return env, nil
}

// envValue is the variable's value: the secret, or one member of it.
// Errors name the secret and key, never the value.
func envValue(sp envSpec, v sdk.Value) (string, error) {
	if sp.key == "" {
		if v.IsBinary() {
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}
		return v.Text(), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v.Bytes(), &obj); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object, so it has no key %s", sp.name, sp.key)
	}
	raw, ok := obj[sp.key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s", sp.name, sp.key)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	return string(raw), nil
}

var credentialVars = []string{sdk.EnvSecretID, sdk.EnvSecretKey, sdk.EnvSessionToken}

// childEnv is base without the credentials (unless pass) and with extra
// set, extra winning.
func childEnv(base, extra []string, pass bool) []string {
	set := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	var out []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		drop := set[k] || (!pass && slices.Contains(credentialVars, k))
		if !drop {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// runChild runs the command, forwarding signals, and returns the status
// to exit with.
func runChild(args, env []string) int {
	child := exec.Command(args[0], args[1:]...)
	child.Env, child.Stdin, child.Stdout, child.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "coffer: run %s: %v\n", args[0], err)
		return exitCannotRun
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = child.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := child.Wait()
	close(done)
	return childStatus(child, err)
}

func childStatus(child *exec.Cmd, err error) int {
	if child.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "coffer: run: %v\n", err)
		return exitCannotRun
	}
	if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return child.ProcessState.ExitCode()
}

// exitWith ends coffer run with the command's status, printing nothing:
// the command has said what it had to.
func exitWith(code int) {
	os.Exit(code)
}
