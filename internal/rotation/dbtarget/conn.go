package dbtarget

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Engines.
const (
	Postgres = "postgresql"
	MySQL    = "mysql" // MySQL and MariaDB
)

// TLS modes of Conn.TLS, after libpq's sslmode.
const (
	TLSPrefer     = ""            // TLS without verification when the server offers it, else plaintext
	TLSDisable    = "disable"     // plaintext
	TLSRequire    = "require"     // TLS; the certificate is checked against CACert when one is given, else not at all
	TLSVerifyFull = "verify-full" // TLS; certificate chain (CACert, or the system's roots) and host name checked
)

// DefaultTimeout bounds connecting when Conn.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Conn is how to reach a database server and the credential to log in
// with. It prints with the password redacted.
type Conn struct {
	Engine   string // Postgres or MySQL
	Host     string // a host name or IP address (no Unix sockets)
	Port     int    // 0 means 5432 or 3306
	User     string // the login; an admin for Open
	Password string // never printed or logged
	Database string // optional on MySQL; on PostgreSQL the role's name when empty
	TLS      string // TLSPrefer (""), TLSDisable, TLSRequire or TLSVerifyFull
	CACert   string // PEM certificates to trust; optional
	// Timeout bounds connecting and logging in; 0 means DefaultTimeout.
	// Statements are bounded by the caller's context only.
	Timeout time.Duration
}

// String describes c without its password.
func (c Conn) String() string {
	return fmt.Sprintf("dbtarget.Conn{%s %s@%s/%s tls=%q password=[redacted]}",
		c.Engine, c.User, c.addr(), c.Database, c.TLS)
}

// GoString is String, so %#v redacts too.
func (c Conn) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Conn) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is String, for log/slog.
func (c Conn) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Conn) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.Engine == MySQL:
		return 3306
	}
	return 5432
}

func (c Conn) addr() string {
	if strings.Contains(c.Host, ":") {
		return "[" + c.Host + "]:" + strconv.Itoa(c.port())
	}
	return c.Host + ":" + strconv.Itoa(c.port())
}

func (c Conn) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// validate checks c's fields; the password only for NUL, since an admin
// may log in with an empty one.
func (c Conn) validate(op string) error {
	if err := checkEngine(op, c.Engine); err != nil {
		return err
	}
	switch {
	case c.Host == "" || strings.ContainsAny(c.Host, "\x00/ "):
		return invalid(op, "Conn.Host must be a host name or IP address")
	case c.Port < 0 || c.Port > 65535:
		return invalid(op, "Conn.Port must be 0 to 65535")
	case c.User == "" || strings.ContainsRune(c.User, 0):
		return invalid(op, "Conn.User must be set, without NUL")
	case strings.ContainsRune(c.Password, 0):
		return invalid(op, "Conn.Password holds NUL")
	case strings.ContainsRune(c.Database, 0):
		return invalid(op, "Conn.Database holds NUL")
	case c.Timeout < 0:
		return invalid(op, "Conn.Timeout is negative")
	}
	_, _, err := c.tlsConfig()
	if err != nil {
		return newError(op, ErrInvalid, err)
	}
	return nil
}

// tlsConfig returns the TLS configuration for c.TLS (nil for plaintext)
// and whether a server without TLS is acceptable.
func (c Conn) tlsConfig() (cfg *tls.Config, plaintextOK bool, err error) {
	var roots *x509.CertPool
	if c.CACert != "" {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(c.CACert)) {
			return nil, false, errors.New("Conn.CACert holds no PEM certificate")
		}
	}
	switch c.TLS {
	case TLSDisable:
		return nil, true, nil
	case TLSPrefer:
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, true, nil
	case TLSRequire:
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
		if roots != nil {
			cfg.VerifyPeerCertificate = verifyChain(roots)
		}
		return cfg, false, nil
	case TLSVerifyFull:
		return &tls.Config{RootCAs: roots, ServerName: c.Host, MinVersion: tls.VersionTLS12}, false, nil
	}
	return nil, false, fmt.Errorf("Conn.TLS %q is not one of \"\", disable, require, verify-full", c.TLS)
}

// verifyChain checks the server's certificate chain against roots and not
// its name: libpq's verify-ca, which require becomes when a CA is given.
func verifyChain(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("server sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, der := range raw {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return err
			}
			certs[i] = cert
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}
