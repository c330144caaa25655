// Package open turns a root-key spec — one string in a config file or a
// flag — into a root.Provider, dispatching to the provider packages. It is
// the only package that imports all of them, so package root stays free of
// their dependencies.
//
// Secrets never appear in a spec: a PIN or an API secret is read from an
// environment variable the spec names.
package open

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Kind names a root-key provider.
type Kind string

// The providers.
const (
	File       Kind = "file"       // a local key file (keyfile)
	PKCS11     Kind = "pkcs11"     // a PKCS#11 HSM (pkcs11)
	AWSKMS     Kind = "awskms"     // AWS KMS (awskms)
	TencentKMS Kind = "tencentkms" // Tencent Cloud KMS (tencentkms)
)

// Spec selects a root-key provider and says how to open it. Only the
// section of Kind is used.
type Spec struct {
	Kind       Kind
	File       FileSpec
	PKCS11     PKCS11Spec
	AWSKMS     AWSKMSSpec
	TencentKMS TencentKMSSpec
}

// FileSpec is file:PATH[?create=false]. The path cannot hold a "?".
type FileSpec struct {
	Path     string
	NoCreate bool // refuse to create a missing file (create=false)
}

// PKCS11Spec is pkcs11:module=PATH;token=LABEL;label=KEY;pin-env=VAR[;create=true][;max-sessions=N].
type PKCS11Spec struct {
	Module      string
	Token       string
	KeyLabel    string
	PINEnv      string // the environment variable holding the user PIN
	Create      bool   // generate the key in the token when it is missing
	MaxSessions int
}

// AWSKMSSpec is awskms:KEY[?region=R][&endpoint=URL][&access-key-env=VAR&secret-key-env=VAR[&token-env=VAR]].
// Without access-key-env the SDK's default credential chain is used.
type AWSKMSSpec struct {
	KeyID, Region, Endpoint    string
	AccessKeyEnv, SecretKeyEnv string
	SessionTokenEnv            string
}

// TencentKMSSpec is tencentkms:KEYID?region=R[&endpoint=URL][&secret-id-env=VAR&secret-key-env=VAR[&token-env=VAR]].
// Without secret-id-env the SDK's default chain is used.
type TencentKMSSpec struct {
	KeyID, Region, Endpoint   string
	SecretIDEnv, SecretKeyEnv string
	TokenEnv                  string
}

// ParseSpec parses a root-key spec:
//
//	file:/var/lib/coffer/root.key
//	file:/var/lib/coffer/root.key?create=false
//	pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=coffer;label=root;pin-env=COFFER_HSM_PIN
//	awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…?endpoint=https://kms.internal
//	awskms:alias/coffer-root?region=eu-west-1
//	tencentkms:23e80852-1e38-11e9-b129-5cb9019b4b01?region=ap-guangzhou
//
// pkcs11 attribute values and query values are percent-decoded. It returns
// an error naming the part that is wrong; the error never quotes a value
// that could be a secret (a PIN written into the spec is refused by name).
func ParseSpec(spec string) (Spec, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok || rest == "" {
		return Spec{}, fmt.Errorf("root key spec: want KIND:…, one of file, pkcs11, awskms, tencentkms")
	}
	var s Spec
	var err error
	switch s.Kind = Kind(kind); s.Kind {
	case File:
		s.File, err = parseFile(rest)
	case PKCS11:
		s.PKCS11, err = parsePKCS11(rest)
	case AWSKMS:
		s.AWSKMS, err = parseAWS(rest)
	case TencentKMS:
		s.TencentKMS, err = parseTencent(rest)
	default:
		return Spec{}, fmt.Errorf("root key spec: unknown kind %q: want file, pkcs11, awskms or tencentkms", clip(kind))
	}
	if err != nil {
		return Spec{}, fmt.Errorf("root key spec %s: %w", s.Kind, err)
	}
	return s, nil
}

func parseFile(rest string) (FileSpec, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return FileSpec{}, fmt.Errorf("no path")
	}
	q, err := parseQuery(query, "create")
	if err != nil {
		return FileSpec{}, err
	}
	create, err := boolParam(q, "create", true)
	return FileSpec{Path: path, NoCreate: !create}, err
}

func parsePKCS11(rest string) (PKCS11Spec, error) {
	attrs, err := parseAttributes(rest)
	if err != nil {
		return PKCS11Spec{}, err
	}
	p := PKCS11Spec{Module: attrs["module"], Token: attrs["token"], KeyLabel: attrs["label"], PINEnv: attrs["pin-env"]}
	for _, name := range pkcs11Attributes[:4] {
		if attrs[name] == "" {
			return PKCS11Spec{}, fmt.Errorf("no %s= attribute", name)
		}
	}
	if p.Create, err = boolParam(attrs, "create", false); err != nil {
		return PKCS11Spec{}, err
	}
	if n, ok := attrs["max-sessions"]; ok {
		if p.MaxSessions, err = strconv.Atoi(n); err != nil || p.MaxSessions < 2 {
			return PKCS11Spec{}, fmt.Errorf("max-sessions=%s: want a number of at least 2", clip(n))
		}
	}
	return p, nil
}

// pkcs11Attributes are the attributes a pkcs11 spec may hold; the first four
// are required.
var pkcs11Attributes = []string{"module", "token", "label", "pin-env", "create", "max-sessions"}

// parseAttributes splits name=value;name=value as RFC 7512 writes PKCS#11
// URIs. A PIN given in the spec itself is refused without being quoted.
func parseAttributes(rest string) (map[string]string, error) {
	attrs := map[string]string{}
	for part := range strings.SplitSeq(rest, ";") {
		name, raw, ok := strings.Cut(part, "=")
		switch {
		case name == "pin" || name == "pin-value" || name == "pin-source":
			return nil, fmt.Errorf("%s= is not accepted: name an environment variable holding the PIN with pin-env=VAR", name)
		case !ok:
			return nil, fmt.Errorf("attribute %q: want name=value", clip(part))
		case !slices.Contains(pkcs11Attributes, name):
			return nil, fmt.Errorf("unknown attribute %q: want %s", clip(name), strings.Join(pkcs11Attributes, ", "))
		}
		if _, dup := attrs[name]; dup {
			return nil, fmt.Errorf("attribute %s given twice", name)
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: bad percent-encoding", name)
		}
		attrs[name] = v
	}
	return attrs, nil
}

func parseAWS(rest string) (AWSKMSSpec, error) {
	id, q, err := parseKeyAndQuery(rest, "region", "endpoint", "access-key-env", "secret-key-env", "token-env")
	if err != nil {
		return AWSKMSSpec{}, err
	}
	a := AWSKMSSpec{KeyID: id, Region: q["region"], Endpoint: q["endpoint"],
		AccessKeyEnv: q["access-key-env"], SecretKeyEnv: q["secret-key-env"], SessionTokenEnv: q["token-env"]}
	if (a.AccessKeyEnv == "") != (a.SecretKeyEnv == "") || (a.SessionTokenEnv != "" && a.AccessKeyEnv == "") {
		return AWSKMSSpec{}, fmt.Errorf("access-key-env and secret-key-env go together (token-env needs both)")
	}
	return a, nil
}

func parseTencent(rest string) (TencentKMSSpec, error) {
	id, q, err := parseKeyAndQuery(rest, "region", "endpoint", "secret-id-env", "secret-key-env", "token-env")
	if err != nil {
		return TencentKMSSpec{}, err
	}
	s := TencentKMSSpec{KeyID: id, Region: q["region"], Endpoint: q["endpoint"],
		SecretIDEnv: q["secret-id-env"], SecretKeyEnv: q["secret-key-env"], TokenEnv: q["token-env"]}
	switch {
	case s.Region == "":
		return TencentKMSSpec{}, fmt.Errorf("no region= (Tencent KMS keys are regional)")
	case (s.SecretIDEnv == "") != (s.SecretKeyEnv == "") || (s.TokenEnv != "" && s.SecretIDEnv == ""):
		return TencentKMSSpec{}, fmt.Errorf("secret-id-env and secret-key-env go together (token-env needs both)")
	}
	return s, nil
}

func parseKeyAndQuery(rest string, allowed ...string) (string, map[string]string, error) {
	id, query, _ := strings.Cut(rest, "?")
	if id == "" {
		return "", nil, fmt.Errorf("no key id")
	}
	q, err := parseQuery(query, allowed...)
	return id, q, err
}

// parseQuery parses a=b&c=d, refusing names outside allowed, repeats and
// empty values.
func parseQuery(query string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	if query == "" {
		return out, nil
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("query: bad encoding")
	}
	for name, vals := range v {
		switch {
		case !slices.Contains(allowed, name):
			return nil, fmt.Errorf("unknown parameter %q: want %s", clip(name), strings.Join(allowed, ", "))
		case len(vals) != 1:
			return nil, fmt.Errorf("parameter %s given %d times", name, len(vals))
		case vals[0] == "":
			return nil, fmt.Errorf("parameter %s is empty", name)
		}
		out[name] = vals[0]
	}
	return out, nil
}

func boolParam(m map[string]string, name string, def bool) (bool, error) {
	s, ok := m[name]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s=%s: want true or false", name, clip(s))
	}
	return b, nil
}

// clip shortens what a user typed before it goes into an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
