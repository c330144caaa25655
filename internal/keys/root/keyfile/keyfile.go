// Package keyfile is the root-key provider that keeps the root key in a
// local file: 32 random bytes, created on first start with mode 0600. It is
// the embedded default; production deployments may prefer an HSM or KMS.
package keyfile

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/aead"
)

const header = "coffer-root-key-v1"

// File is a root key held in a file.
type File struct {
	path string
	key  []byte
}

// Open reads the key file at path, creating it when create is true and the
// file does not exist. It refuses a file that group or others may read, and
// returns an error that names the path (never the key) on failure.
func Open(path string, create bool) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return generate(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read root key file %s: %w", path, err)
	}
	if err := checkMode(path); err != nil {
		return nil, err
	}
	key, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("root key file %s: %w", path, err)
	}
	return &File{path: path, key: key}, nil
}

func generate(path string) (*File, error) {
	key, err := aead.NewKey()
	if err != nil {
		return nil, err
	}
	text := header + "\n" + hex.EncodeToString(key) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create root key file %s: %w", path, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return nil, fmt.Errorf("write root key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync root key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close root key file %s: %w", path, err)
	}
	return &File{path: path, key: key}, nil
}

func checkMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat root key file %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("root key file %s has mode %04o: it must not be readable by group or others (chmod 600)", path, st.Mode().Perm())
	}
	return nil
}

func parse(b []byte) ([]byte, error) {
	lines := strings.Fields(string(b))
	if len(lines) != 2 || lines[0] != header {
		return nil, errors.New("not a Coffer root key file")
	}
	key, err := hex.DecodeString(lines[1])
	if err != nil || len(key) != aead.KeySize {
		return nil, errors.New("malformed key")
	}
	return key, nil
}

// Wrap seals plaintext under the root key bound to aad.
func (f *File) Wrap(_ context.Context, plaintext, aad []byte) ([]byte, error) {
	out, err := aead.Seal(f.key, plaintext, aad)
	if err != nil {
		return nil, fault.Wrap("keyfile.Wrap", fault.Internal, "root key failure", err)
	}
	return out, nil
}

// Unwrap opens what Wrap sealed; fault.KeyUnavailable when it does not
// authenticate (a different root key, or altered data).
func (f *File) Unwrap(_ context.Context, ciphertext, aad []byte) ([]byte, error) {
	out, err := aead.Open(f.key, ciphertext, aad)
	if err != nil {
		return nil, fault.Wrap("keyfile.Unwrap", fault.KeyUnavailable, "root key cannot open key material", err)
	}
	return out, nil
}

// Describe names the provider.
func (f *File) Describe() string { return "file " + f.path }

// String hides the key.
func (f *File) String() string { return "keyfile.File{" + f.path + "}" }

// GoString hides the key.
func (f *File) GoString() string { return f.String() }

// LogValue hides the key from structured logs.
func (f *File) LogValue() slog.Value { return slog.StringValue(f.String()) }
