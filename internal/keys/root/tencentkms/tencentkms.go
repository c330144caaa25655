// Package tencentkms is the root-key provider that keeps the root key in
// Tencent Cloud KMS (API 2019-01-18), through tencentcloud-sdk-go's common
// client: Wrap is Encrypt and Unwrap is Decrypt under one CMK, so the root
// key never leaves KMS.
//
// The caller's aad travels as the EncryptionContext {"coffer:aad":
// base64(aad)} (none for an empty aad), which KMS binds into the
// ciphertext. The plaintext gets a one-byte format prefix, so an empty one
// (which KMS refuses) round-trips; the sealed text is a format byte followed
// by KMS's CiphertextBlob. Decrypt takes no KeyId, so Unwrap refuses a
// plaintext that KMS reports under any CMK but the one Open resolved.
//
// There is no offline Tencent KMS emulator. The tests run the real SDK
// against a fake KMS in the test binary that verifies every request's
// TC3-HMAC-SHA256 signature with internal/signature/tc3 and implements
// Encrypt and Decrypt with AES-256-GCM, so the wire format (actions,
// parameters, base64, EncryptionContext, errors) is exercised for real, but
// Tencent's own service is not.
package tencentkms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Config selects the CMK and how to reach it.
type Config struct {
	KeyID  string // the CMK's KeyId
	Region string // the CMK's region, e.g. ap-guangzhou: KMS keys are regional
	// Endpoint is empty for Tencent's endpoint (https://kms.tencentcloudapi.com),
	// else a host[:port] reached over HTTPS, or an http:// or https:// URL.
	Endpoint string
	// SecretID, SecretKey and Token are static credentials; with SecretID
	// empty the SDK's default chain is used: TENCENTCLOUD_SECRET_ID and
	// TENCENTCLOUD_SECRET_KEY, then ~/.tencentcloud/credentials, then the
	// CVM instance role.
	SecretID  string
	SecretKey string
	Token     string
}

// String describes c without the secret key or the token.
func (c Config) String() string {
	return fmt.Sprintf("tencentkms.Config{key=%s region=%s endpoint=%s secret-id=%s secret=[redacted]}",
		c.KeyID, c.Region, c.Endpoint, c.SecretID)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// KMS is a root key held in Tencent Cloud KMS. It is safe for concurrent use.
type KMS struct {
	client   *common.Client
	keyID    string // as configured
	resolved string // the KeyId KMS reports, learned by Open
	desc     string
}

// Open builds a client for cfg and checks, with one Encrypt and one Decrypt,
// that the CMK can be used. A missing key id or region, a bad endpoint or no
// credentials give a plain error; a KMS that cannot be reached, or refuses
// the credentials, gives a fault.Unavailable error; a CMK that is missing,
// disabled or denied gives fault.KeyUnavailable.
func Open(ctx context.Context, cfg Config) (*KMS, error) {
	k, err := newKMS(cfg)
	if err != nil {
		return nil, err
	}
	if err := k.resolve(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// newKMS makes no call to KMS; the result cannot Unwrap until resolve.
func newKMS(cfg Config) (*KMS, error) {
	switch {
	case cfg.KeyID == "":
		return nil, errors.New("tencentkms: no key id")
	case cfg.Region == "":
		return nil, fmt.Errorf("tencentkms: no region for key %s: Tencent KMS keys are regional", cfg.KeyID)
	}
	prof := profile.NewClientProfile()
	prof.Language = "en-US"
	if err := setEndpoint(prof.HttpProfile, cfg.Endpoint); err != nil {
		return nil, err
	}
	cred, err := credential(cfg)
	if err != nil {
		return nil, err
	}
	return &KMS{client: common.NewCommonClient(cred, cfg.Region, prof), keyID: cfg.KeyID, desc: describe(cfg)}, nil
}

func setEndpoint(h *profile.HttpProfile, endpoint string) error {
	if endpoint == "" {
		return nil
	}
	if !strings.Contains(endpoint, "://") {
		h.Endpoint = endpoint
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("tencentkms: endpoint %q: want host[:port] or an http(s):// URL", endpoint)
	}
	h.Scheme = strings.ToUpper(u.Scheme)
	h.Endpoint = u.Host + strings.TrimSuffix(u.Path, "/")
	return nil
}

func credential(cfg Config) (common.CredentialIface, error) {
	if cfg.SecretID != "" {
		if cfg.SecretKey == "" {
			return nil, fmt.Errorf("tencentkms: SecretId %s has no SecretKey", cfg.SecretID)
		}
		return common.NewTokenCredential(cfg.SecretID, cfg.SecretKey, cfg.Token), nil
	}
	cred, err := common.DefaultProviderChain().GetCredential()
	if err != nil {
		return nil, fmt.Errorf("tencentkms: no credentials (set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, a profile, or a CVM role): %w", err)
	}
	return cred, nil
}

func describe(cfg Config) string {
	d := "tencentkms key " + cfg.KeyID + " in " + cfg.Region
	if cfg.Endpoint != "" {
		d += " at " + cfg.Endpoint
	}
	return d
}

// Describe names the provider, e.g. "tencentkms key 23e8… in ap-guangzhou".
func (k *KMS) Describe() string { return k.desc }

// String is Describe: the client's credentials are not printed.
func (k *KMS) String() string { return k.desc }

// GoString is String.
func (k *KMS) GoString() string { return k.desc }

// Format prints String for every verb, so %+v does not walk into the
// client, which holds the credentials.
func (k *KMS) Format(f fmt.State, _ rune) { io.WriteString(f, k.desc) }

// LogValue is String, for log/slog.
func (k *KMS) LogValue() slog.Value { return slog.StringValue(k.desc) }
