//go:build cgo

package softhsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"
)

const confEnv = "SOFTHSM2_CONF"

// confMu serializes the moments when SOFTHSM2_CONF names one token's
// configuration and that token's module reads it.
var confMu sync.Mutex

// NewToken creates and initializes a SoftHSM2 token in tb.TempDir(), loads
// its module and keeps it loaded until tb ends. It skips tb when SoftHSM2
// is unavailable (fails it when CI=true) and fails tb when the token cannot
// be created or its module not initialized.
func NewToken(tb testing.TB) Token {
	tb.Helper()
	system := systemModule(tb)
	dir := tb.TempDir()
	tok := Token{
		Module:   filepath.Join(dir, "libsofthsm2.so"),
		Label:    "coffer-" + randomHex(4),
		PIN:      "pin-" + randomHex(6),
		SOPIN:    "so-pin-" + randomHex(6),
		ConfPath: filepath.Join(dir, "softhsm2.conf"),
	}
	if err := tok.create(dir, system); err != nil {
		tb.Fatalf("softhsmtest: %v", err)
	}
	c, err := tok.load()
	if err != nil {
		tb.Fatalf("softhsmtest: load %s (if the temporary directory is mounted noexec, point TMPDIR elsewhere): %v", tok.Module, err)
	}
	tb.Cleanup(func() { c.Close() })
	return tok
}

// create writes the token's configuration and module copy under dir and
// initializes the token with softhsm2-util.
func (tok Token) create(dir, system string) error {
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	conf := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(tok.ConfPath, []byte(conf), 0o600); err != nil {
		return err
	}
	if err := copyFile(tok.Module, system); err != nil {
		return fmt.Errorf("copy %s: %w", system, err)
	}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", tok.Label, "--pin", tok.PIN, "--so-pin", tok.SOPIN)
	cmd.Env = append(os.Environ(), confEnv+"="+tok.ConfPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("softhsm2-util --init-token: %v: %s", err, out)
	}
	return nil
}

// load initializes the token's module with SOFTHSM2_CONF naming the
// token's configuration, then puts the variable back. The context it
// returns holds a session but never logs in, so the token's login state
// is left to the test.
func (tok Token) load() (*crypto11.Context, error) {
	confMu.Lock()
	defer confMu.Unlock()
	old, had := os.LookupEnv(confEnv)
	if err := os.Setenv(confEnv, tok.ConfPath); err != nil {
		return nil, err
	}
	defer func() {
		if had {
			os.Setenv(confEnv, old)
		} else {
			os.Unsetenv(confEnv)
		}
	}()
	return crypto11.Configure(&crypto11.Config{Path: tok.Module, TokenLabel: tok.Label, LoginNotSupported: true})
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: it crashes the program instead
	return hex.EncodeToString(b)
}
