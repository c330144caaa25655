// Package awskms is the root-key provider that keeps the root key in AWS KMS
// (or a KMS-compatible endpoint) through aws-sdk-go-v2: Wrap is kms:Encrypt
// and Unwrap is kms:Decrypt under one symmetric key, so the root key never
// leaves KMS.
//
// The caller's aad travels as the encryption context {"coffer:aad":
// base64(aad)} (nothing for an empty aad); KMS binds it into the ciphertext
// and logs it in CloudTrail, which is fine: an aad names a CMK, it holds no
// secret. Before encryption the plaintext gets a one-byte format prefix, so
// an empty plaintext (which KMS refuses) round-trips; the sealed text is a
// format byte followed by KMS's CiphertextBlob.
//
// Decrypt does not name the key: KMS finds it from the blob, and Unwrap then
// refuses a plaintext from any key but the one Open resolved (its ARN, from
// a probe Encrypt). That keeps AWS's advice, "use the key you intend", and
// also makes a blob whose key reference was altered fail: an emulator that
// trusts a KeyId parameter and ignores the blob's reference would otherwise
// accept it.
//
// Credentials come from the SDK's default chain (environment, shared files,
// SSO, web identity, ECS or EC2 roles) unless Config holds static ones.
package awskms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/coffer-secrets/coffer/internal/fault"
)

const (
	version = 1
	// maxPlaintext is KMS's Encrypt limit less the format byte.
	maxPlaintext = 4096 - 1
	// contextKey names the encryption context entry that carries the aad.
	contextKey = "coffer:aad"
)

// Config selects the KMS key and how to reach it.
type Config struct {
	KeyID    string // key id, key ARN, alias name ("alias/coffer-root") or alias ARN
	Region   string // empty: the region in KeyID's ARN, else the SDK's default chain
	Endpoint string // empty: AWS's endpoint for Region; else e.g. a VPC endpoint or a test KMS
	// AccessKeyID, SecretAccessKey and SessionToken are static credentials;
	// with AccessKeyID empty the SDK's default chain is used.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// MaxAttempts bounds the SDK's tries per call; 0 is the SDK's default (3).
	MaxAttempts int
}

// String describes c without the secret key or the session token.
func (c Config) String() string {
	return fmt.Sprintf("awskms.Config{key=%s region=%s endpoint=%s access-key=%s secret=[redacted]}",
		c.KeyID, c.Region, c.Endpoint, c.AccessKeyID)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// KMS is a root key held in AWS KMS. It is safe for concurrent use.
type KMS struct {
	client *kms.Client
	keyID  string // as configured: an id, ARN or alias
	arn    string // the key's ARN, resolved by Open
	desc   string
}

// Open builds a KMS client for cfg and checks, with one Encrypt and one
// Decrypt, that the key can be used, learning its ARN. A missing key id or
// region gives a plain error; a KMS that cannot be reached gives a
// fault.Unavailable error, and a key that is missing, disabled or denied
// gives fault.KeyUnavailable.
func Open(ctx context.Context, cfg Config) (*KMS, error) {
	k, err := newKMS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := k.resolve(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// newKMS makes no call to KMS; the result cannot Unwrap until resolve.
func newKMS(ctx context.Context, cfg Config) (*KMS, error) {
	if cfg.KeyID == "" {
		return nil, errors.New("awskms: no key id")
	}
	if cfg.Region == "" {
		cfg.Region = arnRegion(cfg.KeyID)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOptions(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("awskms: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("awskms: no region for key %s: set one, use a key ARN, or set AWS_REGION", cfg.KeyID)
	}
	client := kms.NewFromConfig(awsCfg, func(o *kms.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &KMS{client: client, keyID: cfg.KeyID, desc: describe(cfg, awsCfg.Region)}, nil
}

func loadOptions(cfg Config) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(cfg.MaxAttempts))
	}
	return opts
}

// arnRegion returns the region of arn:aws:kms:REGION:ACCOUNT:key/ID, or "".
func arnRegion(id string) string {
	f := strings.SplitN(id, ":", 6)
	if len(f) == 6 && f[0] == "arn" && f[2] == "kms" {
		return f[3]
	}
	return ""
}

func describe(cfg Config, region string) string {
	d := "awskms key " + cfg.KeyID + " in " + region
	if cfg.Endpoint != "" {
		d += " at " + cfg.Endpoint
	}
	return d
}

// resolve encrypts a probe to learn the key's ARN, then opens it, so a KMS
// that is unreachable, or a key that is missing, disabled or denied, shows
// up at start.
func (k *KMS) resolve(ctx context.Context) error {
	probe := []byte("coffer awskms probe")
	blob, arn, err := k.encrypt(ctx, "awskms.Open", probe, probe)
	if err != nil {
		return err
	}
	k.arn = arn
	_, err = k.Unwrap(ctx, blob, probe)
	return err
}

// Wrap encrypts plaintext under the KMS key with aad as encryption context.
// It returns fault.Invalid for a plaintext over 4095 bytes,
// fault.Unavailable when KMS cannot be reached or fails, and
// fault.KeyUnavailable when the key is missing, disabled or denied.
func (k *KMS) Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	sealed, _, err := k.encrypt(ctx, "awskms.Wrap", plaintext, aad)
	return sealed, err
}

func (k *KMS) encrypt(ctx context.Context, op string, plaintext, aad []byte) (sealed []byte, arn string, err error) {
	if len(plaintext) > maxPlaintext {
		return nil, "", fault.E(op, fault.Invalid, fmt.Sprintf("root key material is %d bytes; AWS KMS seals at most %d", len(plaintext), maxPlaintext))
	}
	pt := append([]byte{version}, plaintext...)
	defer clear(pt)
	out, err := k.client.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(k.keyID),
		Plaintext:         pt,
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, "", classify(op, err, false)
	}
	return append([]byte{version}, out.CiphertextBlob...), aws.ToString(out.KeyId), nil
}

// Unwrap decrypts what Wrap sealed. It returns fault.KeyUnavailable when
// KMS refuses the ciphertext (another aad, altered bytes), when the blob
// belongs to another key, or when the key is missing, disabled or denied,
// and fault.Unavailable when KMS cannot be reached or fails.
func (k *KMS) Unwrap(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	const op = "awskms.Unwrap"
	if len(sealed) < 2 || sealed[0] != version {
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material")
	}
	out, err := k.client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    sealed[1:],
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, classify(op, err, true)
	}
	switch {
	case k.arn == "" || aws.ToString(out.KeyId) != k.arn:
		clear(out.Plaintext)
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material: sealed under another KMS key")
	case len(out.Plaintext) == 0 || out.Plaintext[0] != version:
		clear(out.Plaintext)
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material: not sealed by Coffer")
	}
	return out.Plaintext[1:], nil
}

func encryptionContext(aad []byte) map[string]string {
	if len(aad) == 0 {
		return nil
	}
	return map[string]string{contextKey: base64.StdEncoding.EncodeToString(aad)}
}

// Describe names the provider, e.g. "awskms key alias/coffer in eu-west-1".
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
