//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The SoftHSM2 tokens TestMain creates. crypto11 initializes a module once
// per process, and SoftHSM2 reads SOFTHSM2_CONF then, so every token exists
// before the first test runs.
const (
	mainToken = "coffer-test"  // shared by most tests
	pinToken  = "coffer-pin"   // only TestWrongPIN logs in here (see there)
	testPIN   = "pin-7c41e9d2" // distinctive, so a leak is easy to find
	testSOPIN = "so-pin-0b5a83"
)

// softHSM is what TestMain found: the module path, or why tests skip.
var softHSM struct {
	module string
	skip   string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-softhsm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := run(m, dir)
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(m *testing.M, dir string) int {
	module, err := findSoftHSM()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "pkcs11: SoftHSM2 is required when CI=true:", err)
			return 1
		}
		softHSM.skip = "SoftHSM2 unavailable: " + err.Error()
		return m.Run()
	}
	if err := initTokens(dir); err != nil {
		fmt.Fprintln(os.Stderr, "pkcs11: create SoftHSM2 tokens:", err)
		return 1
	}
	softHSM.module = module
	return m.Run()
}

var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
}

// findSoftHSM returns the module path, installing Debian's softhsm2 package
// when it is missing, apt-get exists and we are root.
func findSoftHSM() (string, error) {
	if m, ok := installedSoftHSM(); ok {
		return m, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("not installed, and no apt-get to install it (apt-get install softhsm2)")
	}
	if os.Geteuid() != 0 {
		return "", errors.New("not installed, and not root to install it (apt-get install softhsm2)")
	}
	if err := aptInstall("softhsm2"); err != nil {
		return "", err
	}
	if m, ok := installedSoftHSM(); ok {
		return m, nil
	}
	return "", errors.New("apt-get installed softhsm2, but libsofthsm2.so or softhsm2-util is not where expected")
}

func installedSoftHSM() (string, bool) {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return "", false
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

func aptInstall(pkg string) error {
	install := func() error {
		// Wait for the dpkg lock: another test binary may be installing too.
		cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install %s: %v: %s", pkg, err, out)
		}
		return nil
	}
	if install() == nil {
		return nil
	}
	if out, err := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v: %s", err, out)
	}
	return install()
}

// initTokens writes a SoftHSM2 configuration under dir, points
// SOFTHSM2_CONF at it and creates the test tokens.
func initTokens(dir string) error {
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	for _, label := range []string{mainToken, pinToken} {
		out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label,
			"--pin", testPIN, "--so-pin", testSOPIN).CombinedOutput()
		if err != nil {
			return fmt.Errorf("softhsm2-util --init-token %s: %v: %s", label, err, out)
		}
	}
	return nil
}

// config returns a Config for key in the main test token, or skips t.
func config(t *testing.T, key string) Config {
	t.Helper()
	if softHSM.skip != "" {
		t.Skip(softHSM.skip)
	}
	return Config{Module: softHSM.module, Token: mainToken, PIN: testPIN, KeyLabel: key, CreateIfMissing: true}
}

// mustOpen opens cfg and closes it when t ends.
func mustOpen(t *testing.T, cfg Config) *HSM {
	t.Helper()
	h, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%v): %v", cfg, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
