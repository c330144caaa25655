package open

import (
	"net/url"
	"strconv"
	"strings"
)

// String returns s in the syntax ParseSpec reads; ParseSpec(s.String())
// gives s back. It holds no secret: a spec names environment variables.
func (s Spec) String() string {
	switch s.Kind {
	case File:
		if s.File.NoCreate {
			return "file:" + s.File.Path + "?create=false"
		}
		return "file:" + s.File.Path
	case PKCS11:
		return s.PKCS11.string()
	case AWSKMS:
		a := s.AWSKMS
		return "awskms:" + a.KeyID + query("region", a.Region, "endpoint", a.Endpoint,
			"access-key-env", a.AccessKeyEnv, "secret-key-env", a.SecretKeyEnv, "token-env", a.SessionTokenEnv)
	case TencentKMS:
		t := s.TencentKMS
		return "tencentkms:" + t.KeyID + query("region", t.Region, "endpoint", t.Endpoint,
			"secret-id-env", t.SecretIDEnv, "secret-key-env", t.SecretKeyEnv, "token-env", t.TokenEnv)
	}
	return string(s.Kind) + ":"
}

func (p PKCS11Spec) string() string {
	esc := func(v string) string { return strings.ReplaceAll(url.PathEscape(v), "%2F", "/") }
	parts := []string{"module=" + esc(p.Module), "token=" + esc(p.Token), "label=" + esc(p.KeyLabel), "pin-env=" + esc(p.PINEnv)}
	if p.Create {
		parts = append(parts, "create=true")
	}
	if p.MaxSessions != 0 {
		parts = append(parts, "max-sessions="+strconv.Itoa(p.MaxSessions))
	}
	return "pkcs11:" + strings.Join(parts, ";")
}

// query encodes name, value pairs in order, leaving out empty values.
func query(pairs ...string) string {
	var b strings.Builder
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i] + "=" + url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}
