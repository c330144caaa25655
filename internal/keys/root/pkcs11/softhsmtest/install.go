//go:build cgo

package softhsmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// modulePaths are where distributions put libsofthsm2.so.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
}

// found is what the first call of systemModule learned, for the whole process.
var found struct {
	once sync.Once
	path string
	err  error
}

// systemModule returns the installed libsofthsm2.so, installing Debian's
// softhsm2 package on the first call when it is missing. Without SoftHSM2
// it skips tb, or fails it when CI=true: CI must run the HSM tests.
func systemModule(tb testing.TB) string {
	tb.Helper()
	found.once.Do(func() { found.path, found.err = findSoftHSM() })
	switch {
	case found.err == nil:
		return found.path
	case os.Getenv("CI") == "true":
		tb.Fatalf("SoftHSM2 is required when CI=true: %v", found.err)
	default:
		tb.Skipf("SoftHSM2 unavailable: %v", found.err)
	}
	return ""
}

// findSoftHSM returns the module path, installing the softhsm2 package when
// it is missing, apt-get exists and we are root.
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

// aptInstall installs pkg, updating the package lists once if the first
// attempt fails.
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
