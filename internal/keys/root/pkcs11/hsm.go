//go:build cgo

package pkcs11

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Sealed layout: version || nonce || ciphertext || tag.
const (
	version   = 1
	nonceSize = 12
	tagSize   = 16
	keyBits   = 256
)

// poolWait bounds how long a call waits for a free session, so a wedged
// token shows up as Unavailable instead of a hung request.
const poolWait = 30 * time.Second

// HSM is a root key held in a PKCS#11 token. It is safe for concurrent use.
type HSM struct {
	p11  *crypto11.Context
	key  *crypto11.SecretKey
	gcm  cipher.AEAD
	desc string
}

// Open loads the module, logs in to the token and finds the root key by
// label, generating it when cfg.CreateIfMissing is set. It returns an error
// naming the module, token or key (never the PIN) when the module cannot be
// loaded, the token is absent, the PIN is wrong, the key is missing,
// ambiguous, extractable or not AES-256.
func Open(cfg Config) (*HSM, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	h, err := load(c, cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	return h, nil
}

func connect(cfg Config) (*crypto11.Context, error) {
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("pkcs11: module: %w", err)
	}
	c, err := crypto11.Configure(&crypto11.Config{
		Path:            cfg.Module,
		TokenLabel:      cfg.Token,
		Pin:             cfg.PIN,
		MaxSessions:     cfg.MaxSessions,
		PoolWaitTimeout: poolWait,
		GCMIVLength:     nonceSize,
	})
	if err != nil {
		return nil, openError(cfg, err)
	}
	return c, nil
}

// openError turns crypto11's errors into ones an operator can act on. The
// PIN is in none of them: crypto11 never prints it.
func openError(cfg Config, err error) error {
	token := strconv.Quote(cfg.Token)
	var code p11.Error
	switch {
	case errors.As(err, &code) && code == p11.CKR_PIN_INCORRECT:
		return fmt.Errorf("pkcs11: wrong PIN for token %s", token)
	case errors.As(err, &code) && (code == p11.CKR_PIN_LOCKED || code == p11.CKR_PIN_EXPIRED):
		return fmt.Errorf("pkcs11: the PIN of token %s is locked or expired (%v)", token, code)
	case strings.Contains(err.Error(), "could not find PKCS#11 token"):
		return fmt.Errorf("pkcs11: module %s has no initialized token labelled %s", cfg.Module, token)
	case strings.Contains(err.Error(), "failed to open module"):
		return fmt.Errorf("pkcs11: cannot load %s as a PKCS#11 module", cfg.Module)
	}
	return fmt.Errorf("pkcs11: open token %s in %s: %w", token, cfg.Module, err)
}

func load(c *crypto11.Context, cfg Config) (*HSM, error) {
	key, err := findOrCreate(c, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkKey(c, key, cfg); err != nil {
		return nil, err
	}
	g, err := key.NewGCM()
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: %w", cfg.KeyLabel, err)
	}
	h := &HSM{p11: c, key: key, gcm: g, desc: describe(cfg)}
	if err := h.probe(); err != nil {
		return nil, err
	}
	return h, nil
}

func findOrCreate(c *crypto11.Context, cfg Config) (*crypto11.SecretKey, error) {
	label := strconv.Quote(cfg.KeyLabel)
	keys, err := c.FindKeys(nil, []byte(cfg.KeyLabel))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find key %s: %w", label, err)
	}
	switch {
	case len(keys) == 1:
		return keys[0], nil
	case len(keys) > 1:
		return nil, fmt.Errorf("pkcs11: token %q holds %d keys labelled %s; want one", cfg.Token, len(keys), label)
	case !cfg.CreateIfMissing:
		return nil, fmt.Errorf("pkcs11: token %q has no key labelled %s (create it, or allow Coffer to)", cfg.Token, label)
	}
	return generate(c, cfg)
}

// generate makes the root key inside the token. Besides crypto11's defaults
// (sensitive, not extractable, token object) it is private and can neither
// wrap, unwrap nor derive, so the token has no path to export it.
func generate(c *crypto11.Context, cfg Config) (*crypto11.SecretKey, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("pkcs11: key id: %w", err)
	}
	t, err := crypto11.NewAttributeSetWithIDAndLabel(id, []byte(cfg.KeyLabel))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key template: %w", err)
	}
	for _, a := range []*p11.Attribute{
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	} {
		t[a.Type] = a
	}
	k, err := c.GenerateSecretKeyWithAttributes(t, keyBits, crypto11.CipherAES)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: generate AES-256 key %q in token %q: %w", cfg.KeyLabel, cfg.Token, err)
	}
	return k, nil
}

// checkKey refuses a key that is not AES-256 or that the token would let
// anyone read: a root key must never leave the HSM.
func checkKey(c *crypto11.Context, k *crypto11.SecretKey, cfg Config) error {
	attrs, err := c.GetAttributes(k, []crypto11.AttributeType{
		p11.CKA_KEY_TYPE, p11.CKA_VALUE_LEN, p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE,
	})
	if err != nil {
		return fmt.Errorf("pkcs11: read attributes of key %q: %w", cfg.KeyLabel, err)
	}
	switch {
	case ulong(attrs[p11.CKA_KEY_TYPE]) != p11.CKK_AES || ulong(attrs[p11.CKA_VALUE_LEN]) != keyBits/8:
		return fmt.Errorf("pkcs11: key %q is not an AES-256 key", cfg.KeyLabel)
	case !boolean(attrs[p11.CKA_SENSITIVE]) || boolean(attrs[p11.CKA_EXTRACTABLE]):
		return fmt.Errorf("pkcs11: key %q can be exported (CKA_SENSITIVE false or CKA_EXTRACTABLE true); a root key must not be", cfg.KeyLabel)
	}
	return nil
}

// probe seals and opens a few bytes, so a token without CKM_AES_GCM fails
// at Open and not on the first request.
func (h *HSM) probe() error {
	ctx := context.Background()
	aad := []byte("coffer pkcs11 probe")
	sealed, err := h.Wrap(ctx, aad, aad)
	if err == nil {
		_, err = h.Unwrap(ctx, sealed, aad)
	}
	if err != nil {
		return fmt.Errorf("pkcs11: %s cannot seal with CKM_AES_GCM: %w", h.desc, err)
	}
	return nil
}

// ulong reads a CK_ULONG attribute, in the host's byte order; a missing
// or odd-sized value reads as the largest uint, which matches no constant.
func ulong(a *crypto11.Attribute) uint {
	switch {
	case a != nil && len(a.Value) == 8:
		return uint(binary.NativeEndian.Uint64(a.Value))
	case a != nil && len(a.Value) == 4:
		return uint(binary.NativeEndian.Uint32(a.Value))
	}
	return ^uint(0)
}

func boolean(a *crypto11.Attribute) bool {
	return a != nil && len(a.Value) == 1 && a.Value[0] != 0
}

// Wrap seals plaintext with AES-256-GCM inside the token, bound to aad. It
// returns fault.Unavailable when the token cannot be used (a session or
// device failure, a closed HSM) and fault.Internal for other token errors.
func (h *HSM) Wrap(ctx context.Context, plaintext, aad []byte) (sealed []byte, err error) {
	const op = "pkcs11.Wrap"
	if err := ctx.Err(); err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "root key holder not reached", err)
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fault.Wrap(op, fault.Internal, "root key failure", err)
	}
	// crypto11's Seal panics on a token error: cipher.AEAD has no error.
	defer func() {
		if r := recover(); r != nil {
			sealed, err = nil, classify(op, panicError(r), fault.Internal)
		}
	}()
	return h.gcm.Seal(out, out[1:], plaintext, aad), nil
}

// Unwrap opens what Wrap sealed inside the token. It returns
// fault.KeyUnavailable when the token refuses the data (another key, another
// aad, altered bytes) and fault.Unavailable when the token cannot be used.
func (h *HSM) Unwrap(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	const op = "pkcs11.Unwrap"
	if err := ctx.Err(); err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "root key holder not reached", err)
	}
	if len(sealed) < 1+nonceSize+tagSize || sealed[0] != version {
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material")
	}
	pt, err := h.gcm.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], aad)
	if err != nil {
		return nil, classify(op, err, fault.KeyUnavailable)
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

func panicError(r any) error {
	if err, ok := r.(error); ok {
		return err
	}
	return fmt.Errorf("%v", r)
}

// classify maps a token error to a kind: device and session failures are
// Unavailable (retry later, another node may succeed), other PKCS#11
// return values get kind, and non-PKCS#11 errors (a closed context, no free
// session in time) are Unavailable.
func classify(op string, err error, kind fault.Kind) error {
	code, ok := returnValue(err)
	if !ok || unreachable[code] {
		return fault.Wrap(op, fault.Unavailable, "root key holder (PKCS#11 token) unavailable", err)
	}
	if kind == fault.KeyUnavailable {
		return fault.Wrap(op, kind, "root key cannot open key material", err)
	}
	return fault.Wrap(op, kind, "root key failure", err)
}

// returnValue finds the PKCS#11 return value in err. crypto11 formats its
// AEAD errors with %v, which drops the pkcs11.Error from the chain, so the
// value is also read back from miekg/pkcs11's text "pkcs11: 0x5: ...".
func returnValue(err error) (p11.Error, bool) {
	var code p11.Error
	if errors.As(err, &code) {
		return code, true
	}
	m := returnValueText.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	v, perr := strconv.ParseUint(m[1], 16, 64)
	return p11.Error(v), perr == nil
}

var returnValueText = regexp.MustCompile(`pkcs11: 0x([0-9A-F]+): `)

var unreachable = map[p11.Error]bool{
	p11.CKR_DEVICE_ERROR:             true,
	p11.CKR_DEVICE_MEMORY:            true,
	p11.CKR_DEVICE_REMOVED:           true,
	p11.CKR_TOKEN_NOT_PRESENT:        true,
	p11.CKR_TOKEN_NOT_RECOGNIZED:     true,
	p11.CKR_SESSION_CLOSED:           true,
	p11.CKR_SESSION_COUNT:            true,
	p11.CKR_SESSION_HANDLE_INVALID:   true,
	p11.CKR_USER_NOT_LOGGED_IN:       true,
	p11.CKR_CRYPTOKI_NOT_INITIALIZED: true,
	p11.CKR_HOST_MEMORY:              true,
	p11.CKR_FUNCTION_CANCELED:        true,
	p11.CKR_OPERATION_ACTIVE:         true,
}

// Close logs out and releases the sessions; later calls return
// fault.Unavailable. It blocks until calls in flight finish.
func (h *HSM) Close() error { return h.p11.Close() }

// Describe names the provider, e.g. `pkcs11 token "coffer" key "root" (/usr/lib/softhsm/libsofthsm2.so)`.
func (h *HSM) Describe() string { return h.desc }

// String is Describe; the PIN is not kept here.
func (h *HSM) String() string { return h.desc }

// GoString is String.
func (h *HSM) GoString() string { return h.desc }

// Format prints String for every verb, so %+v does not walk into crypto11's
// context, which holds the PIN.
func (h *HSM) Format(f fmt.State, _ rune) { io.WriteString(f, h.desc) }

// LogValue is String, for log/slog.
func (h *HSM) LogValue() slog.Value { return slog.StringValue(h.desc) }
