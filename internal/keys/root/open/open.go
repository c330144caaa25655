package open

import (
	"context"
	"fmt"
	"os"

	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/keys/root/awskms"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/keys/root/pkcs11"
	"github.com/coffer-secrets/coffer/internal/keys/root/tencentkms"
)

// Open opens the provider s selects, reading the secrets it names from the
// environment. A provider that holds resources (the PKCS#11 session pool)
// also implements io.Closer; close it on shutdown. Open returns an error
// when an environment variable the spec names is unset or empty, and
// otherwise the provider's own error: for the KMS providers a fault error
// of kind Unavailable (KMS unreachable) or KeyUnavailable (key missing,
// disabled or denied).
func Open(ctx context.Context, s Spec) (root.Provider, error) {
	return openWith(ctx, s, os.LookupEnv)
}

type lookupFunc func(string) (string, bool)

func openWith(ctx context.Context, s Spec, env lookupFunc) (root.Provider, error) {
	switch s.Kind {
	case File:
		return keyfile.Open(s.File.Path, !s.File.NoCreate)
	case PKCS11:
		return openPKCS11(s.PKCS11, env)
	case AWSKMS:
		return openAWS(ctx, s.AWSKMS, env)
	case TencentKMS:
		return openTencent(ctx, s.TencentKMS, env)
	}
	return nil, fmt.Errorf("root key: unknown provider kind %q", s.Kind)
}

func openPKCS11(p PKCS11Spec, env lookupFunc) (root.Provider, error) {
	pin, err := secret(env, p.PINEnv, "the PIN of token "+p.Token)
	if err != nil {
		return nil, err
	}
	h, err := pkcs11.Open(pkcs11.Config{Module: p.Module, Token: p.Token, PIN: pin, KeyLabel: p.KeyLabel,
		CreateIfMissing: p.Create, MaxSessions: p.MaxSessions})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func openAWS(ctx context.Context, a AWSKMSSpec, env lookupFunc) (root.Provider, error) {
	cfg := awskms.Config{KeyID: a.KeyID, Region: a.Region, Endpoint: a.Endpoint}
	var err error
	if a.AccessKeyEnv != "" {
		if cfg.AccessKeyID, err = secret(env, a.AccessKeyEnv, "the AWS access key id"); err != nil {
			return nil, err
		}
		if cfg.SecretAccessKey, err = secret(env, a.SecretKeyEnv, "the AWS secret access key"); err != nil {
			return nil, err
		}
	}
	if a.SessionTokenEnv != "" {
		if cfg.SessionToken, err = secret(env, a.SessionTokenEnv, "the AWS session token"); err != nil {
			return nil, err
		}
	}
	k, err := awskms.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func openTencent(ctx context.Context, t TencentKMSSpec, env lookupFunc) (root.Provider, error) {
	cfg := tencentkms.Config{KeyID: t.KeyID, Region: t.Region, Endpoint: t.Endpoint}
	var err error
	if t.SecretIDEnv != "" {
		if cfg.SecretID, err = secret(env, t.SecretIDEnv, "the Tencent Cloud SecretId"); err != nil {
			return nil, err
		}
		if cfg.SecretKey, err = secret(env, t.SecretKeyEnv, "the Tencent Cloud SecretKey"); err != nil {
			return nil, err
		}
	}
	if t.TokenEnv != "" {
		if cfg.Token, err = secret(env, t.TokenEnv, "the Tencent Cloud session token"); err != nil {
			return nil, err
		}
	}
	k, err := tencentkms.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// secret reads the environment variable name; what says what it should hold.
func secret(env lookupFunc, name, what string) (string, error) {
	v, ok := env(name)
	if !ok || v == "" {
		return "", fmt.Errorf("root key: environment variable %s (%s) is unset or empty", name, what)
	}
	return v, nil
}
