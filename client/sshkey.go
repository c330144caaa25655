package client

import "context"

// SSH key pair secrets: Coffer generates the pair, keeps it as a secret,
// and the ssh rotator replaces it.

// SSHKeyPairInput describes a new SSH key pair secret.
type SSHKeyPairInput struct {
	Name        string
	ProjectID   int64
	Description string
	KmsKeyID    string
	Tags        []Tag
	KeyName     string // at most 25 of [A-Za-z0-9_]; "" names it after the key id
	// Algorithm (Coffer's extension) is "ed25519" (default) or "rsa";
	// KeyBits is an RSA key's size (0 for the server's default).
	Algorithm string
	KeyBits   int
}

// SSHKeyPairRef names a new SSH key pair secret and its key.
type SSHKeyPairRef struct {
	Name    string
	KeyID   string // skey-…
	KeyName string
}

// CreateSSHKeyPairSecret generates a key pair and stores it as a secret.
// It is retried only when the server surely did not run it. It returns an
// *Error: ResourceInUse.SecretExists, InvalidParameterValue for a bad name,
// key name or algorithm, UnsupportedOperation when the server does not
// rotate.
func (c *Client) CreateSSHKeyPairSecret(ctx context.Context, in SSHKeyPairInput) (*SSHKeyPairRef, error) {
	req := struct {
		SecretName   string
		ProjectId    int64
		Description  string    `json:",omitempty"`
		KmsKeyId     string    `json:",omitempty"`
		Tags         []wireTag `json:",omitempty"`
		SSHKeyName   string    `json:",omitempty"`
		KeyAlgorithm string    `json:",omitempty"`
		KeyBits      *int64    `json:",omitempty"`
	}{in.Name, in.ProjectID, in.Description, in.KmsKeyID, wireTags(in.Tags), in.KeyName, in.Algorithm, positive(in.KeyBits)}
	var out struct{ SecretName, SSHKeyID, SSHKeyName string }
	if err := c.call(ctx, "CreateSSHKeyPairSecret", retrySafe, req, &out); err != nil {
		return nil, err
	}
	return &SSHKeyPairRef{Name: out.SecretName, KeyID: out.SSHKeyID, KeyName: out.SSHKeyName}, nil
}

// SSHKeyPair is the current key pair of an SSH key pair secret. PrivateKey
// is a Value, so it prints as [redacted].
type SSHKeyPair struct {
	Name        string
	KeyID       string
	KeyName     string
	PublicKey   string // OpenSSH authorized_keys format
	PrivateKey  Value  // PEM (OpenSSH or PKCS #1)
	ProjectID   int64
	Description string
}

// GetSSHKeyPairValue returns the current key pair of an SSH key pair
// secret. It returns an *Error: ResourceNotFound, InvalidParameterValue for
// a secret of another type, ResourceUnavailable.* for a Disabled secret.
func (c *Client) GetSSHKeyPairValue(ctx context.Context, name string) (*SSHKeyPair, error) {
	var out struct {
		SSHKeyID, PublicKey, PrivateKey string
		ProjectID                       int64
		SSHKeyDescription, SSHKeyName   string
	}
	if err := c.call(ctx, "GetSSHKeyPairValue", retryIdempotent, nameReq{name}, &out); err != nil {
		return nil, err
	}
	k := &SSHKeyPair{Name: name, KeyID: out.SSHKeyID, KeyName: out.SSHKeyName, PublicKey: out.PublicKey,
		PrivateKey: Text(out.PrivateKey), ProjectID: out.ProjectID, Description: out.SSHKeyDescription}
	clearString(&out.PrivateKey)
	return k, nil
}
