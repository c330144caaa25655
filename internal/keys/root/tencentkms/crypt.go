package tencentkms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/coffer-secrets/coffer/internal/fault"
)

const (
	service    = "kms"
	apiVersion = "2019-01-18"
	version    = 1
	// maxPlaintext is KMS's 4 KiB Encrypt limit less the format byte.
	maxPlaintext = 4096 - 1
	// contextKey names the EncryptionContext entry that carries the aad.
	contextKey = "coffer:aad"
)

// resolve encrypts a probe to learn the KeyId KMS reports, then opens it, so
// a KMS that is unreachable, or a CMK that is missing, disabled or denied,
// shows up at start.
func (k *KMS) resolve(ctx context.Context) error {
	probe := []byte("coffer tencentkms probe")
	sealed, keyID, err := k.encrypt(ctx, "tencentkms.Open", probe, probe)
	if err != nil {
		return err
	}
	k.resolved = keyID
	_, err = k.Unwrap(ctx, sealed, probe)
	return err
}

// Wrap encrypts plaintext under the CMK with aad as EncryptionContext. It
// returns fault.Invalid for a plaintext over 4095 bytes, fault.Unavailable
// when KMS cannot be reached, fails or refuses the credentials, and
// fault.KeyUnavailable when the CMK is missing, disabled or denied.
func (k *KMS) Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	sealed, _, err := k.encrypt(ctx, "tencentkms.Wrap", plaintext, aad)
	return sealed, err
}

func (k *KMS) encrypt(ctx context.Context, op string, plaintext, aad []byte) ([]byte, string, error) {
	if len(plaintext) > maxPlaintext {
		return nil, "", fault.E(op, fault.Invalid, fmt.Sprintf("root key material is %d bytes; Tencent KMS seals at most %d", len(plaintext), maxPlaintext))
	}
	pt := append([]byte{version}, plaintext...)
	defer clear(pt)
	params := map[string]any{"KeyId": k.keyID, "Plaintext": base64.StdEncoding.EncodeToString(pt)}
	addContext(params, aad)
	var out struct{ CiphertextBlob, KeyId string }
	if err := k.call(ctx, "Encrypt", params, &out); err != nil {
		return nil, "", classify(op, err, false)
	}
	if out.CiphertextBlob == "" {
		return nil, "", fault.E(op, fault.Unavailable, "root key holder (Tencent KMS) returned no CiphertextBlob")
	}
	return append([]byte{version}, out.CiphertextBlob...), out.KeyId, nil
}

// Unwrap decrypts what Wrap sealed. It returns fault.KeyUnavailable when
// KMS refuses the ciphertext (another aad, altered bytes), when it was
// sealed under another CMK, or when the CMK is missing, disabled or denied,
// and fault.Unavailable when KMS cannot be reached, fails or refuses the
// credentials.
func (k *KMS) Unwrap(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	const op = "tencentkms.Unwrap"
	if len(sealed) < 2 || sealed[0] != version {
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material")
	}
	params := map[string]any{"CiphertextBlob": string(sealed[1:])}
	addContext(params, aad)
	var out struct{ Plaintext, KeyId string }
	if err := k.call(ctx, "Decrypt", params, &out); err != nil {
		return nil, classify(op, err, true)
	}
	pt, err := base64.StdEncoding.DecodeString(out.Plaintext)
	switch {
	case err != nil:
		return nil, fault.E(op, fault.Unavailable, "root key holder (Tencent KMS) returned a Plaintext that is not base64")
	case k.resolved == "" || out.KeyId != k.resolved:
		clear(pt)
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material: sealed under another CMK")
	case len(pt) == 0 || pt[0] != version:
		clear(pt)
		return nil, fault.E(op, fault.KeyUnavailable, "root key cannot open key material: not sealed by Coffer")
	}
	return pt[1:], nil
}

// addContext sets EncryptionContext, a string holding a JSON object, when
// there is an aad.
func addContext(params map[string]any, aad []byte) {
	if len(aad) == 0 {
		return
	}
	b, _ := json.Marshal(map[string]string{contextKey: base64.StdEncoding.EncodeToString(aad)}) // cannot fail
	params["EncryptionContext"] = string(b)
}

// call sends one KMS action and decodes the "Response" object into out.
func (k *KMS) call(ctx context.Context, action string, params map[string]any, out any) error {
	req := tchttp.NewCommonRequest(service, apiVersion, action)
	req.SetContext(ctx)
	if err := req.SetActionParameters(params); err != nil {
		return err
	}
	resp := tchttp.NewCommonResponse()
	if err := k.client.Send(req, resp); err != nil {
		return err
	}
	var body struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &body); err != nil {
		return fmt.Errorf("decode %s response: %w", action, err)
	}
	if err := json.Unmarshal(body.Response, out); err != nil {
		return fmt.Errorf("decode %s response: %w", action, err)
	}
	return nil
}
