// Package softhsmtest gives tests SoftHSM2 tokens: a fresh, initialized
// token per NewToken call, in the test's temporary directory, with the
// PKCS#11 module path, label and PINs to open it.
//
// SoftHSM2 reads SOFTHSM2_CONF, and so which tokens exist, once, in
// C_Initialize; crypto11 initializes a module once per process and
// finalizes it only when its last context closes. A token created later
// would stay invisible to a module already in use, and SOFTHSM2_CONF is
// process-wide. So every token gets its own copy of libsofthsm2.so (the
// dynamic loader keeps one instance per file, not per path) with its own
// configuration, and NewToken initializes that copy at once, under a lock,
// with SOFTHSM2_CONF naming the token's configuration only for that moment.
// A context that never logs in keeps the module initialized until the test
// ends. Tests, parallel or not, each see exactly their own tokens, and a
// fresh token has never been logged in to: PKCS#11 login state belongs to
// the module instance, and a second login to a logged-in token succeeds
// whatever the PIN.
//
// Without SoftHSM2, NewToken installs Debian's softhsm2 package when it can
// (apt-get, root), and otherwise skips the test, or fails it when CI=true.
// Without cgo it skips the test.
package softhsmtest

import (
	"fmt"
	"io"
	"log/slog"
)

// Token is an initialized SoftHSM2 token holding no objects yet.
type Token struct {
	Module   string // the token's own copy of libsofthsm2.so: the module path to open it with
	Label    string // the token's label (CKA_LABEL of the token, crypto11's TokenLabel)
	PIN      string // the user PIN: distinctive, so a test can look for it in errors and logs
	SOPIN    string // the security officer PIN
	ConfPath string // the token's SOFTHSM2_CONF, for softhsm2-util
}

// String describes t without its PINs.
func (t Token) String() string {
	return fmt.Sprintf("softhsmtest.Token{module=%s label=%q pin=[redacted] conf=%s}", t.Module, t.Label, t.ConfPath)
}

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// LogValue is String, for log/slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// KeyInfo is what a token says about the secret keys with one label.
type KeyInfo struct {
	Count int // how many secret keys have the label; the fields below describe the first

	Sensitive, Extractable            bool // CKA_SENSITIVE, CKA_EXTRACTABLE
	AlwaysSensitive, NeverExtractable bool // CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE
	Private, OnToken, Wrap, Derive    bool // CKA_PRIVATE, CKA_TOKEN, CKA_WRAP, CKA_DERIVE
	ValueReadable                     bool // the token returned CKA_VALUE: the key can be read out
	ValueLen                          int  // CKA_VALUE_LEN, in bytes
}
