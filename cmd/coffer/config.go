package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	sdk "github.com/coffer-secrets/coffer/client"
)

// Environment variables of the client commands (secret, run, agent,
// profile). Flags override them; they override the profile.
const (
	envConfig  = "COFFER_CONFIG"  // the config file
	envProfile = "COFFER_PROFILE" // the profile to use
)

// cliConfig is the client config file: named profiles of connection
// settings. JSON, so it needs no parser beyond the standard library.
type cliConfig struct {
	DefaultProfile string                    `json:"default_profile,omitempty"`
	Profiles       map[string]*profileConfig `json:"profiles"`
}

// profileConfig is one server and the credentials to use on it. SecretKey makes
// the file as sensitive as the key: it is written 0600.
type profileConfig struct {
	Addr      string `json:"addr,omitempty"`
	Region    string `json:"region,omitempty"`
	CACert    string `json:"cacert,omitempty"`
	SecretID  string `json:"secret_id,omitempty"`
	SecretKey string `json:"secret_key,omitempty"`
	Output    string `json:"output,omitempty"`
}

// defaultConfigPath is $XDG_CONFIG_HOME/coffer/config.json, or
// ~/.config/coffer/config.json.
func defaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "coffer", "config.json")
}

// loadConfig reads the config file. A missing file is an empty config
// unless the path was asked for explicitly.
func loadConfig(path string, explicit bool) (*cliConfig, error) {
	cfg := &cliConfig{Profiles: map[string]*profileConfig{}}
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, nil
	} else if err != nil {
		return nil, failed(fmt.Errorf("config file: %w", err))
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, failed(fmt.Errorf("config file %s: %w", path, err))
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]*profileConfig{}
	}
	warnIfExposed(path, cfg)
	return cfg, nil
}

// warnIfExposed warns when a config file holding a secret key can be read
// by others than its owner.
func warnIfExposed(path string, cfg *cliConfig) {
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	for name, p := range cfg.Profiles {
		if p.SecretKey != "" {
			fmt.Fprintf(os.Stderr, "coffer: warning: %s holds the secret key of profile %s and is readable by others (chmod 600 it)\n", path, name)
			return
		}
	}
}

// saveConfig writes the config file atomically with mode 0600.
func saveConfig(path string, cfg *cliConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return failed(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return failed(err)
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return failed(err)
	}
	return nil
}

// connFlags are the flags every client command takes.
type connFlags struct {
	configPath, profile, addr, region, cacert, output string
	timeout                                           time.Duration
}

func (f *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.configPath, "config-file", "", "client config file (env "+envConfig+"; default ~/.config/coffer/config.json)")
	fs.StringVarP(&f.profile, "profile", "p", "", "profile in the config file (env "+envProfile+")")
	fs.StringVar(&f.addr, "addr", "", "server URL, e.g. https://coffer.example:8443 (env "+sdk.EnvAddr+")")
	fs.StringVar(&f.region, "region", "", "region (env "+sdk.EnvRegion+"; default "+sdk.DefaultRegion+")")
	fs.StringVar(&f.cacert, "cacert", "", "PEM file of a CA to trust (env "+sdk.EnvCACert+")")
	fs.StringVarP(&f.output, "output", "o", "", "output format: table or json (default table)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "timeout of each request")
}

// settings are the connection settings after flags, environment and
// profile have been weighed.
type settings struct {
	profile      string
	addr, region string
	cacert       string
	creds        sdk.Credentials
	output       string
	timeout      time.Duration
}

// resolve weighs flags over environment over profile. It fails with a
// usage error for a named profile that does not exist, an unknown output
// format or a missing address.
func (f *connFlags) resolve(cmd *cobra.Command) (*settings, error) {
	path, explicit := f.configPath, f.configPath != ""
	if !explicit {
		path, explicit = os.Getenv(envConfig), os.Getenv(envConfig) != ""
	}
	if !explicit {
		path = defaultConfigPath()
	}
	cfg, err := loadConfig(path, explicit)
	if err != nil {
		return nil, err
	}
	name := cmp.Or(f.profile, os.Getenv(envProfile))
	p := cfg.Profiles[cmp.Or(name, cfg.DefaultProfile, "default")]
	if p == nil && name != "" {
		return nil, usageErr(fmt.Errorf("no profile %q in %s", name, path))
	}
	if p == nil {
		p = &profileConfig{}
	}
	s := &settings{
		profile: cmp.Or(name, cfg.DefaultProfile, "default"),
		addr:    pick(cmd, "addr", f.addr, sdk.EnvAddr, p.Addr),
		region:  pick(cmd, "region", f.region, sdk.EnvRegion, p.Region),
		cacert:  pick(cmd, "cacert", f.cacert, sdk.EnvCACert, p.CACert),
		output:  cmp.Or(f.output, p.Output, "table"),
		timeout: f.timeout,
		creds:   credentialsFrom(p),
	}
	if s.output != "table" && s.output != "json" {
		return nil, usageErr(fmt.Errorf("--output is table or json, not %q", s.output))
	}
	if s.addr == "" {
		return nil, usageErr(fmt.Errorf("no server address: give --addr, set %s or use a profile (coffer profile set)", sdk.EnvAddr))
	}
	return s, nil
}

// pick returns the flag's value if it was given, else the environment
// variable's if set, else the profile's.
func pick(cmd *cobra.Command, flag, flagVal, env, profileVal string) string {
	if cmd.Flags().Changed(flag) {
		return flagVal
	}
	return cmp.Or(os.Getenv(env), profileVal)
}

// credentialsFrom takes the key pair from the environment when
// COFFER_SECRET_ID is set, else from the profile: a pair never mixes
// halves from two places.
func credentialsFrom(p *profileConfig) sdk.Credentials {
	if id := os.Getenv(sdk.EnvSecretID); id != "" {
		return sdk.Credentials{SecretID: id, SecretKey: os.Getenv(sdk.EnvSecretKey), Token: os.Getenv(sdk.EnvSessionToken)}
	}
	return sdk.Credentials{SecretID: p.SecretID, SecretKey: p.SecretKey}
}

// client returns an SDK client for s. It fails with a usage error when no
// credentials are configured, and with a could-not-run error for an
// unreadable CA file.
func (s *settings) client() (*sdk.Client, error) {
	if s.creds.SecretID == "" || s.creds.SecretKey == "" {
		return nil, usageErr(fmt.Errorf("no credentials: set %s and %s, or use a profile with secret_id and secret_key",
			sdk.EnvSecretID, sdk.EnvSecretKey))
	}
	if s.cacert != "" {
		if _, err := os.Stat(s.cacert); err != nil {
			return nil, failed(fmt.Errorf("CA file: %w", err))
		}
	}
	creds := s.creds
	c, err := sdk.New(sdk.Options{
		Endpoint: s.addr, Region: s.region, CAFile: s.cacert, Timeout: s.timeout, UserAgent: "coffer-cli/" + version,
		Credentials: sdk.CredentialsFunc(func(context.Context) (sdk.Credentials, error) { return creds, nil }),
	})
	if err != nil {
		return nil, usageErr(err)
	}
	return c, nil
}
