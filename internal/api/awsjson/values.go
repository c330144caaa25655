package awsjson

import (
	"encoding/base64"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// AWS's own rules for versions: a token of 32–64 characters becomes the
// version id; a secret keeps up to 100 versions, pruning those without labels.
const (
	minToken    = 32
	maxToken    = 64
	maxVersions = 100
	maxValue    = 65536
)

// defaultKMSAlias is how AWS clients name the default key.
const defaultKMSAlias = "alias/aws/secretsmanager"

func checkToken(token *string) error {
	if token != nil && (len(*token) < minToken || len(*token) > maxToken) {
		return fail(errInvalidParameter, fmt.Sprintf("ClientRequestToken must be %d-%d characters long.", minToken, maxToken))
	}
	return nil
}

// needToken refuses a write of a value without a token: the SDKs always
// send one, so only raw HTTP callers meet this.
func needToken(token *string) error {
	if token == nil {
		return fail(errInvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.")
	}
	return nil
}

// value decodes the optional pair SecretString / SecretBinary: nil when
// neither is given.
func value(str, bin *string) (*secrets.Value, error) {
	switch {
	case str != nil && bin != nil:
		return nil, fail(errInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		if len(*str) == 0 || len(*str) > maxValue {
			return nil, fail(errInvalidParameter, fmt.Sprintf("SecretString must be 1 to %d bytes long.", maxValue))
		}
		v := secrets.StringValue(*str)
		return &v, nil
	case bin != nil:
		if len(*bin) > base64.StdEncoding.EncodedLen(maxValue) {
			return nil, fail(errInvalidParameter, fmt.Sprintf("SecretBinary must be 1 to %d bytes long.", maxValue))
		}
		b, err := base64.StdEncoding.DecodeString(*bin)
		if err != nil {
			return nil, fail(errSerialization, "SecretBinary is not valid base64.")
		}
		if len(b) == 0 || len(b) > maxValue {
			return nil, fail(errInvalidParameter, fmt.Sprintf("SecretBinary must be 1 to %d bytes long.", maxValue))
		}
		v := secrets.BinaryValue(b)
		return &v, nil
	}
	return nil, nil
}

// kmsKey turns a KmsKeyId into the core's key reference.
func kmsKey(id *string) *string {
	if id == nil {
		return nil
	}
	if *id == defaultKMSAlias {
		empty := ""
		return &empty
	}
	return id
}

type tagIn struct {
	Key   *string
	Value *string
}

type tagOut struct {
	Key   string
	Value string
}

func tags(in []tagIn) ([]store.Tag, error) {
	out := make([]store.Tag, 0, len(in))
	for _, t := range in {
		if t.Key == nil {
			return nil, fail(errInvalidParameter, "Every tag needs a Key.")
		}
		if len(*t.Key) >= 4 && (*t.Key)[:4] == "aws:" {
			return nil, fail(errInvalidParameter, "Tag keys starting with aws: are reserved.")
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		out = append(out, store.Tag{Key: *t.Key, Value: v})
	}
	return out, nil
}

func tagsOut(sec *secrets.Secret) *[]tagOut {
	if !sec.Tagged && len(sec.Tags) == 0 {
		return nil
	}
	out := make([]tagOut, 0, len(sec.Tags))
	for _, t := range sec.Tags {
		out = append(out, tagOut{t.Key, t.Value})
	}
	return &out
}
