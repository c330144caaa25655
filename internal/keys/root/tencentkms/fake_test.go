package tencentkms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// fakeKMS is a Tencent Cloud KMS 2019-01-18 in the test binary: it verifies
// each request's TC3 signature with internal/signature/tc3 and implements
// Encrypt and Decrypt with AES-256-GCM, answering in the wire format of the
// spec (§5.4, §5.5): blobs shaped <b64 A>-k-<b64 B>-k-<b64 C>, errors as
// {"Response":{"Error":{"Code","Message"},"RequestId"}}.
type fakeKMS struct {
	srv                         *httptest.Server
	region, secretID, secretKey string

	mu   sync.Mutex
	keys map[string]*fakeKey
	seen map[string]seenRequest // the last request of each action
	n    int
}

type fakeKey struct {
	material []byte
	enabled  bool
}

type seenRequest struct {
	header http.Header
	params map[string]any
}

// blobMarker is part B of every blob: a format marker, not an IV (§5.5).
var blobMarker = []byte("coffer-fake-kms1")

var strictB64 = base64.StdEncoding.Strict()

const (
	fakeRegion    = "ap-guangzhou"
	fakeSecretID  = "AKIDcofferfaketest0000000000000000001"
	fakeSecretKey = "fake-secret-key-3c9e5a7b11d2f004"
)

func newFakeKMS(t *testing.T) *fakeKMS {
	t.Helper()
	f := &fakeKMS{region: fakeRegion, secretID: fakeSecretID, secretKey: fakeSecretKey,
		keys: map[string]*fakeKey{}, seen: map[string]seenRequest{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// createKey adds an enabled CMK and returns its KeyId.
func (f *fakeKMS) createKey(t *testing.T) string {
	t.Helper()
	material := make([]byte, 32)
	rand.Read(material)
	u := make([]byte, 16)
	rand.Read(u)
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[id] = &fakeKey{material: material, enabled: true}
	return id
}

func (f *fakeKMS) setEnabled(id string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[id].enabled = on
}

func (f *fakeKMS) lastRequest(action string) seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[action]
}

func (f *fakeKMS) config(keyID string) Config {
	return Config{KeyID: keyID, Region: f.region, Endpoint: f.srv.URL, SecretID: f.secretID, SecretKey: f.secretKey}
}

// apiError is a Tencent error response.
type apiError struct{ code, msg string }

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func fail(code, format string, args ...any) error {
	return &apiError{code, fmt.Sprintf(format, args...)}
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := f.serve(r)
	f.mu.Lock()
	f.n++
	reqID := fmt.Sprintf("fake-%06d", f.n)
	f.mu.Unlock()
	resp := map[string]any{"RequestId": reqID}
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		resp["Error"] = map[string]string{"Code": ae.code, "Message": ae.msg}
	case err != nil:
		resp["Error"] = map[string]string{"Code": "InternalError", "Message": err.Error()}
	default:
		for k, v := range out {
			resp[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

func (f *fakeKMS) serve(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if err := f.authenticate(r, body); err != nil {
		return nil, err
	}
	if v := r.Header.Get("X-TC-Version"); v != apiVersion {
		return nil, fail("NoSuchVersion", "version %q is not served", v)
	}
	action := r.Header.Get("X-TC-Action")
	var params map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&params); err != nil {
		return nil, fail("InvalidParameter", "body is not a JSON object")
	}
	f.mu.Lock()
	f.seen[action] = seenRequest{header: r.Header.Clone(), params: params}
	f.mu.Unlock()
	switch action {
	case "Encrypt":
		return f.encrypt(r.Header.Get("X-TC-Region"), body)
	case "Decrypt":
		return f.decrypt(r.Header.Get("X-TC-Region"), body)
	}
	return nil, fail("InvalidAction", "action %q is not served", action)
}

// authenticate runs the server side of TC3: parse, find the key, verify.
func (f *fakeKMS) authenticate(r *http.Request, body []byte) error {
	s, err := tc3.ParseRequest(r, body, service, time.Now(), tc3.MaxSkew)
	if errors.Is(err, tc3.ErrSignatureExpire) {
		return fail("AuthFailure.SignatureExpire", "%v", err)
	}
	if err != nil {
		return fail("AuthFailure.InvalidAuthorization", "%v", err)
	}
	if s.Authorization.SecretID != f.secretID {
		return fail("AuthFailure.SecretIdNotFound", "the SecretId is not found")
	}
	if err := s.Verify([]byte(f.secretKey)); err != nil {
		return fail("AuthFailure.SignatureFailure", "the provided credentials could not be validated")
	}
	return nil
}

// decodeStrict decodes a request body into v, refusing unknown parameters,
// so a misspelt one fails the test instead of being ignored.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail("UnknownParameter", "%v", err)
	}
	return nil
}

func (f *fakeKMS) key(region, id string) (*fakeKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[id]
	switch {
	case k == nil || region != f.region:
		return nil, fail("ResourceUnavailable.CmkNotFound", "the CMK does not exist")
	case !k.enabled:
		return nil, fail("ResourceUnavailable.CmkDisabled", "the CMK is disabled")
	}
	return k, nil
}

func (f *fakeKMS) encrypt(region string, body []byte) (map[string]any, error) {
	var req struct {
		KeyId, Plaintext  string
		EncryptionContext *string
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	k, err := f.key(region, req.KeyId)
	if err != nil {
		return nil, err
	}
	pt, err := strictB64.DecodeString(req.Plaintext)
	if err != nil || len(pt) == 0 || len(pt) > 4096 {
		return nil, fail("InvalidParameterValue.InvalidPlaintext", "Plaintext must be base64 of 1 to 4096 bytes")
	}
	ec, err := canonicalContext(req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	ref := keyRef(req.KeyId)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	sealed := gcm(k.material).Seal(nonce, nonce, pt, append(ref, ec...))
	blob := strings.Join([]string{strictB64.EncodeToString(ref), strictB64.EncodeToString(blobMarker), strictB64.EncodeToString(sealed)}, "-k-")
	return map[string]any{"CiphertextBlob": blob, "KeyId": req.KeyId}, nil
}

func (f *fakeKMS) decrypt(region string, body []byte) (map[string]any, error) {
	var req struct {
		CiphertextBlob    string
		EncryptionContext *string
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	ec, err := canonicalContext(req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	ref, sealed, ok := parseBlob(req.CiphertextBlob)
	if !ok {
		return nil, fail("InvalidParameterValue.InvalidCiphertext", "the ciphertext is invalid")
	}
	id := string(bytes.TrimRight(ref, "\x00"))
	k, err := f.key(region, id)
	if err != nil {
		return nil, err
	}
	pt, err := gcm(k.material).Open(nil, sealed[:12], sealed[12:], append(ref, ec...))
	if err != nil {
		return nil, fail("InvalidParameterValue.InvalidCiphertext", "the ciphertext is invalid")
	}
	return map[string]any{"Plaintext": strictB64.EncodeToString(pt), "KeyId": id}, nil
}

// keyRef is part A of a blob: the KeyId, zero-padded to 64 bytes.
func keyRef(id string) []byte {
	ref := make([]byte, 64)
	copy(ref, id)
	return ref
}

func parseBlob(blob string) (ref, sealed []byte, ok bool) {
	parts := strings.Split(blob, "-k-")
	if len(parts) != 3 {
		return nil, nil, false
	}
	ref, err1 := strictB64.DecodeString(parts[0])
	marker, err2 := strictB64.DecodeString(parts[1])
	sealed, err3 := strictB64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(ref) != 64 || !bytes.Equal(marker, blobMarker) || len(sealed) < 12+16 {
		return nil, nil, false
	}
	return ref, sealed, true
}

// canonicalContext returns the EncryptionContext (a string holding a JSON
// object of string pairs) re-encoded with sorted keys, so the order a client
// sends does not matter, or "" when there is none.
func canonicalContext(s *string) ([]byte, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	var m map[string]string
	if len(*s) > 1024 || json.Unmarshal([]byte(*s), &m) != nil {
		return nil, fail("InvalidParameterValue", "EncryptionContext must be a JSON object of strings, at most 1024 characters")
	}
	b, _ := json.Marshal(m)
	return b, nil
}

func gcm(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}
