package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

// newProfileCmd manages the profiles of the client config file.
func newProfileCmd() *cobra.Command {
	var path string
	cmd := groupCmd("profile", "Manage the profiles of the client config file")
	cmd.Long = `Manage the profiles of the client config file (~/.config/coffer/config.json,
or $XDG_CONFIG_HOME/coffer/config.json, or COFFER_CONFIG, or --config-file).
A profile names a server, a region, a CA file and an access key; the
client commands use the one --profile or COFFER_PROFILE names, else the
default profile. The file is written with mode 0600: it may hold a key.`
	cmd.PersistentFlags().StringVar(&path, "config-file", "", "client config file (env "+envConfig+")")
	configPath := func() (string, bool) {
		if path != "" {
			return path, true
		}
		if p := os.Getenv(envConfig); p != "" {
			return p, true
		}
		return defaultConfigPath(), false
	}
	cmd.AddCommand(newProfileSetCmd(configPath), newProfileListCmd(configPath), newProfileDeleteCmd(configPath))
	return cmd
}

type configPathFunc func() (string, bool)

func newProfileSetCmd(configPath configPathFunc) *cobra.Command {
	var p profileConfig
	var keyStdin, makeDefault bool
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Create or change a profile",
		Args:  exactArgs(1, "one profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := configPath() // created when missing
			cfg, err := loadConfig(path, false)
			if err != nil {
				return err
			}
			old := cfg.Profiles[args[0]]
			if old == nil {
				old = &profileConfig{}
			}
			if keyStdin {
				if p.SecretKey, err = readKey(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			merged := mergeProfile(cmd, old, p)
			if merged.Output != "" && merged.Output != "table" && merged.Output != "json" {
				return usageErr(fmt.Errorf("--output is table or json"))
			}
			cfg.Profiles[args[0]] = merged
			if makeDefault || len(cfg.Profiles) == 1 {
				cfg.DefaultProfile = args[0]
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved profile %s in %s\n", args[0], path)
			return nil
		},
	}
	cmd.Example = `  coffer profile set dev --addr http://127.0.0.1:8443 --secret-id AKID... --secret-key-stdin --default
  coffer profile set prod --addr https://coffer.example:8443 --cacert /etc/coffer/ca.pem --region ap-shanghai`
	f := cmd.Flags()
	f.StringVar(&p.Addr, "addr", "", "server URL")
	f.StringVar(&p.Region, "region", "", "region")
	f.StringVar(&p.CACert, "cacert", "", "PEM file of a CA to trust")
	f.StringVar(&p.SecretID, "secret-id", "", "access key id")
	f.BoolVar(&keyStdin, "secret-key-stdin", false, "read the secret key from standard input (one line)")
	f.StringVar(&p.Output, "output", "", "default output format: table or json")
	f.BoolVar(&makeDefault, "default", false, "make it the default profile")
	return cmd
}

// mergeProfile applies the flags given to old.
func mergeProfile(cmd *cobra.Command, old *profileConfig, p profileConfig) *profileConfig {
	out := *old
	set := func(flag string, dst *string, v string) {
		if cmd.Flags().Changed(flag) {
			*dst = v
		}
	}
	set("addr", &out.Addr, p.Addr)
	set("region", &out.Region, p.Region)
	set("cacert", &out.CACert, p.CACert)
	set("secret-id", &out.SecretID, p.SecretID)
	set("output", &out.Output, p.Output)
	if p.SecretKey != "" {
		out.SecretKey = p.SecretKey
	}
	return &out
}

// readKey reads one line: the secret key, never an argument.
func readKey(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", failed(fmt.Errorf("read the secret key: %w", err))
	}
	key := strings.TrimSpace(line)
	if key == "" {
		return "", usageErr(errors.New("--secret-key-stdin read an empty key"))
	}
	return key, nil
}

func newProfileListCmd(configPath configPathFunc) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the profiles (secret keys are not shown)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, explicit := configPath()
			cfg, err := loadConfig(path, explicit)
			if err != nil {
				return err
			}
			if output != "table" && output != "json" {
				return usageErr(fmt.Errorf("--output is table or json"))
			}
			type row struct {
				Name, Addr, Region, CACert, SecretId string
				HasSecretKey, Default                bool
			}
			rows := []row{}
			for _, name := range slices.Sorted(maps.Keys(cfg.Profiles)) {
				p := cfg.Profiles[name]
				rows = append(rows, row{name, p.Addr, cmp.Or(p.Region, sdk.DefaultRegion), p.CACert, p.SecretID, p.SecretKey != "", name == cfg.DefaultProfile})
			}
			pr := &printer{w: cmd.OutOrStdout(), output: output}
			return pr.print(rows, func(w io.Writer) {
				fmt.Fprintln(w, "PROFILE\tADDR\tREGION\tSECRET ID\tDEFAULT")
				for _, r := range rows {
					def := ""
					if r.Default {
						def = "*"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Addr, r.Region, r.SecretId, def)
				}
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

func newProfileDeleteCmd(configPath configPathFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a profile",
		Args:  exactArgs(1, "one profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, explicit := configPath()
			cfg, err := loadConfig(path, explicit)
			if err != nil {
				return err
			}
			if cfg.Profiles[args[0]] == nil {
				return usageErr(fmt.Errorf("no profile %q in %s", args[0], path))
			}
			delete(cfg.Profiles, args[0])
			if cfg.DefaultProfile == args[0] {
				cfg.DefaultProfile = ""
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted profile %s\n", args[0])
			return nil
		},
	}
}
