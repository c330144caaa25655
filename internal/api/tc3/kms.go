package tc3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/kms"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// kmsActions is the KMS action table (spec §5), plus RotateKeyOnDemand.
var kmsActions = map[string]action{
	"CreateKey":            handle(createKey),
	"DescribeKey":          handle(describeKey),
	"DescribeKeys":         handle(describeKeys),
	"ListKeys":             handle(listKeys),
	"ListKeyDetail":        handle(listKeyDetail),
	"UpdateAlias":          handle(updateAlias),
	"UpdateKeyDescription": handle(updateKeyDescription),
	"EnableKey":            handle(enableKey),
	"DisableKey":           handle(disableKey),
	"ScheduleKeyDeletion":  handle(scheduleKeyDeletion),
	"CancelKeyDeletion":    handle(cancelKeyDeletion),
	"EnableKeyRotation":    handle(enableKeyRotation),
	"DisableKeyRotation":   handle(disableKeyRotation),
	"GetKeyRotationStatus": handle(getKeyRotationStatus),
	"RotateKeyOnDemand":    handle(rotateKeyOnDemand),
	"Encrypt":              handle(kmsEncrypt),
	"Decrypt":              handle(kmsDecrypt),
	"GenerateDataKey":      handle(generateDataKey),
	"ReEncrypt":            handle(reEncrypt),
	"GenerateRandom":       handle(generateRandom),
	"GetServiceStatus":     handle(kmsServiceStatus),
}

// kmsReasonCodes spells the kms package's reasons as KMS's codes.
var kmsReasonCodes = map[fault.Reason]string{
	kms.CmkNotFound:          "ResourceUnavailable.CmkNotFound",
	kms.CmkDisabled:          "ResourceUnavailable.CmkDisabled",
	kms.CmkPendingDelete:     "ResourceUnavailable.KeyPendingDelete",
	kms.CmkShouldBeDisabled:  "ResourceUnavailable.CmkShouldBeDisabled",
	kms.CmkNotPendingDelete:  "ResourceUnavailable.CmkNotPendingDelete",
	kms.CmkStateNotSupported: "ResourceUnavailable.CmkStateNotSupport",
	kms.AliasExists:          "InvalidParameterValue.AliasAlreadyExists",
	kms.BadAlias:             "InvalidParameterValue.InvalidAlias",
	kms.BadCiphertext:        "InvalidParameterValue.InvalidCiphertext",
	kms.DefaultKeyFixed:      "FailedOperation.CmkUsedByCloudProduct",
}

func kmsScope(sc secrets.Scope) kms.Scope { return kms.Scope{Account: sc.Account, Region: sc.Region} }

// keyResource names a CMK for authorization (spec §2.3).
func keyResource(c *api.Call, keyID string) []string {
	return []string{"qcs::kms:" + c.Region + ":uin/" + c.Principal.Account + ":key/creatorUin/" + c.Principal.Account + "/" + keyID}
}

// ---- blobs: <b64 key id>-k-<b64 marker>-k-<b64 sealed> (spec §5.5) ----

var blobMarker = []byte("coffer-kms-blob1") // 16 bytes

func blobOut(raw []byte, keyID string) string {
	enc := base64.StdEncoding
	return enc.EncodeToString([]byte(keyID)) + "-k-" + enc.EncodeToString(blobMarker) + "-k-" + enc.EncodeToString(raw)
}

func blobIn(s string) ([]byte, string, bool) {
	parts := strings.Split(s, "-k-")
	if len(parts) != 3 {
		return nil, "", false
	}
	enc := base64.StdEncoding
	id, err1 := enc.DecodeString(parts[0])
	marker, err2 := enc.DecodeString(parts[1])
	raw, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || !bytes.Equal(marker, blobMarker) {
		return nil, "", false
	}
	return raw, string(id), true
}

// encryptionContext turns EncryptionContext (a JSON object of strings) into
// canonical bytes: keys sorted, so equal contexts authenticate alike.
func encryptionContext(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > 1024 {
		return nil, wire(codeInvalidValue, "The parameter `EncryptionContext` is at most 1024 characters.")
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, wire(codeInvalidValue, "The parameter `EncryptionContext` must be a JSON object of string values.")
	}
	b, _ := json.Marshal(m) // encoding/json sorts map keys
	return b, nil
}

// ---- key metadata ----

type keyMetadata struct {
	KeyId              string
	Alias              string
	CreateTime         uint64
	Description        string
	KeyState           string
	KeyUsage           string
	Type               int64
	CreatorUin         uint64
	KeyRotationEnabled bool
	Owner              string
	NextRotateTime     uint64
	DeletionDate       uint64
	Origin             string
	ValidTo            uint64
	ResourceId         string
	HsmClusterId       string
	RotateDays         uint64
	LastRotateTime     uint64
	IsSyncReplica      int64
	SourceRegion       string
	SyncStatus         int64
	SyncMessages       string
	SyncStartTime      uint64
	SyncEndTime        uint64
	SourceHsmClusterId string
	CreatorUinString   string
	AccountAppId       uint64
	AccountUin         uint64
	AccountName        string
	KeyVersions        int // a Coffer extension: how many versions the key has had
}

func keyOut(k *store.Key) keyMetadata {
	owner := "user"
	if k.Default {
		owner = "ssm"
	}
	return keyMetadata{
		KeyId: k.ID, Alias: k.Alias, CreateTime: unix(k.CreatedAt), Description: k.Description, KeyState: string(k.State),
		KeyUsage: "ENCRYPT_DECRYPT", Type: 2, CreatorUin: num(k.Account), KeyRotationEnabled: k.Rotation.Enabled,
		Owner: owner, NextRotateTime: unix(k.Rotation.Next), DeletionDate: unix(k.DeleteAt), Origin: "TENCENT_KMS",
		ResourceId: "creatorUin/" + k.Account + "/" + k.ID, RotateDays: uint64(k.Rotation.Days),
		LastRotateTime: unix(k.Rotation.Last), CreatorUinString: k.Account, KeyVersions: len(k.Material),
	}
}

type keyIDRequest struct {
	noCheck
	KeyId string
}

func (r *keyIDRequest) check() error     { return required("KeyId", r.KeyId) }
func (r *keyIDRequest) resource() string { return r.KeyId }
func (r *keyIDRequest) prepare(c *api.Call) {
	c.ResourceNames = keyResource(c, r.KeyId)
}

type createKeyRequest struct {
	noCheck
	Alias        string
	Description  string
	KeyUsage     string
	Type         *flexUint
	Tags         []struct{ TagKey, TagValue string }
	HsmClusterId string
}

func (r *createKeyRequest) check() error {
	if err := required("Alias", r.Alias); err != nil {
		return err
	}
	if r.KeyUsage != "" && r.KeyUsage != "ENCRYPT_DECRYPT" {
		return wire("InvalidParameterValue.InvalidKeyUsage", "Only ENCRYPT_DECRYPT keys are supported by this Coffer server.")
	}
	if r.Type.set() && r.Type.val() != 1 {
		return wire("InvalidParameterValue.InvalidType", "Only Type 1 (key material generated by KMS) is supported.")
	}
	return nil
}
func (r *createKeyRequest) resource() string { return r.Alias }

type createKeyResponse struct {
	KeyId        string
	Alias        string
	CreateTime   uint64
	Description  string
	KeyState     string
	KeyUsage     string
	TagCode      uint64
	TagMsg       string
	HsmClusterId string
}

func createKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createKeyRequest) (*createKeyResponse, error) {
	k, err := e.KMS.Create(ctx, kmsScope(sc), kms.CreateInput{Alias: r.Alias, Description: r.Description, CreatedBy: c.Principal.ID})
	if err != nil {
		return nil, err
	}
	return &createKeyResponse{KeyId: k.ID, Alias: k.Alias, CreateTime: unix(k.CreatedAt), Description: k.Description,
		KeyState: string(k.State), KeyUsage: "ENCRYPT_DECRYPT", TagMsg: "ok"}, nil
}

func describeKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*struct{ KeyMetadata keyMetadata }, error) {
	k, err := e.KMS.Describe(ctx, kmsScope(sc), r.KeyId)
	if err != nil {
		return nil, err
	}
	return &struct{ KeyMetadata keyMetadata }{keyOut(k)}, nil
}

type keyIDsRequest struct {
	noCheck
	KeyIds []string
}

func (r *keyIDsRequest) check() error {
	if len(r.KeyIds) == 0 || len(r.KeyIds) > 100 {
		return wire(codeInvalidValue, "The parameter `KeyIds` holds 1 to 100 key ids.")
	}
	seen := map[string]bool{}
	for _, id := range r.KeyIds {
		if seen[id] {
			return wire("InvalidParameterValue.DuplicatedKeyId", "The parameter `KeyIds` names a key twice.")
		}
		seen[id] = true
	}
	return nil
}

func describeKeys(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDsRequest) (*struct{ KeyMetadatas []keyMetadata }, error) {
	out := &struct{ KeyMetadatas []keyMetadata }{[]keyMetadata{}}
	for _, id := range r.KeyIds {
		if err := e.Gate.Check(ctx, &api.Call{Family: c.Family, Action: c.Action, Region: c.Region, Principal: c.Principal,
			SourceIP: c.SourceIP, Secure: c.Secure, ResourceNames: keyResource(c, id)}, c.Action, ""); err != nil {
			return nil, err
		}
		k, err := e.KMS.Describe(ctx, kmsScope(sc), id)
		if fault.ReasonOf(err) == kms.CmkNotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		out.KeyMetadatas = append(out.KeyMetadatas, keyOut(k))
	}
	return out, nil
}

type listKeysRequest struct {
	noCheck
	Offset         *flexUint
	Limit          *flexUint
	Role           *flexUint
	HsmClusterId   string
	OrderType      *flexUint
	KeyState       *flexUint
	SearchKeyAlias string
	Origin         string
	KeyUsage       string
}

func (r *listKeysRequest) check() error {
	if r.Limit.set() && (r.Limit.val() < 1 || r.Limit.val() > 200) {
		return wire(codeInvalidValue, "The parameter `Limit` must be 1 to 200.")
	}
	return nil
}

func (e *Edge) listed(ctx context.Context, sc secrets.Scope, r *listKeysRequest, defaultLimit uint64) ([]*store.Key, int, error) {
	ks, err := e.KMS.List(ctx, kmsScope(sc), r.Role.val() == 1)
	if err != nil {
		return nil, 0, err
	}
	states := map[uint64]store.KeyState{1: store.KeyEnabled, 2: store.KeyDisabled, 3: store.KeyPendingDeletion}
	ks = slices.DeleteFunc(ks, func(k *store.Key) bool {
		if want, ok := states[r.KeyState.val()]; ok && k.State != want {
			return true
		}
		return r.SearchKeyAlias != "" && !strings.Contains(k.Alias, r.SearchKeyAlias) && !strings.Contains(k.ID, r.SearchKeyAlias)
	})
	if r.OrderType.val() == 0 {
		slices.Reverse(ks) // newest first
	}
	limit := defaultLimit
	if r.Limit.set() {
		limit = r.Limit.val()
	}
	lo := min(int(r.Offset.val()), len(ks))
	hi := min(lo+int(limit), len(ks))
	return ks[lo:hi], len(ks), nil
}

func listKeys(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listKeysRequest) (*struct {
	Keys       []struct{ KeyId string }
	TotalCount uint64
}, error) {
	r.OrderType = new(flexUint)
	*r.OrderType = 1 // ListKeys: oldest first
	ks, total, err := e.listed(ctx, sc, r, 10)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Keys       []struct{ KeyId string }
		TotalCount uint64
	}{Keys: []struct{ KeyId string }{}, TotalCount: uint64(total)}
	for _, k := range ks {
		out.Keys = append(out.Keys, struct{ KeyId string }{k.ID})
	}
	return out, nil
}

func listKeyDetail(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listKeysRequest) (*struct {
	TotalCount   uint64
	KeyMetadatas []keyMetadata
}, error) {
	ks, total, err := e.listed(ctx, sc, r, 10)
	if err != nil {
		return nil, err
	}
	out := &struct {
		TotalCount   uint64
		KeyMetadatas []keyMetadata
	}{TotalCount: uint64(total), KeyMetadatas: []keyMetadata{}}
	for _, k := range ks {
		out.KeyMetadatas = append(out.KeyMetadatas, keyOut(k))
	}
	return out, nil
}

type updateAliasRequest struct {
	keyIDRequest
	Alias string
}

func (r *updateAliasRequest) check() error {
	if err := r.keyIDRequest.check(); err != nil {
		return err
	}
	return required("Alias", r.Alias)
}

func updateAlias(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateAliasRequest) (*empty, error) {
	_, err := e.KMS.UpdateAlias(ctx, kmsScope(sc), r.KeyId, r.Alias)
	return &empty{}, err
}

type updateKeyDescriptionRequest struct {
	keyIDRequest
	Description string
}

func (r *updateKeyDescriptionRequest) check() error {
	if err := r.keyIDRequest.check(); err != nil {
		return err
	}
	return required("Description", r.Description)
}

func updateKeyDescription(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateKeyDescriptionRequest) (*empty, error) {
	_, err := e.KMS.UpdateDescription(ctx, kmsScope(sc), r.KeyId, r.Description)
	return &empty{}, err
}

func enableKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*empty, error) {
	_, err := e.KMS.Enable(ctx, kmsScope(sc), r.KeyId)
	return &empty{}, err
}

func disableKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*empty, error) {
	_, err := e.KMS.Disable(ctx, kmsScope(sc), r.KeyId)
	return &empty{}, err
}

type scheduleDeletionRequest struct {
	keyIDRequest
	PendingWindowInDays *flexUint
}

func (r *scheduleDeletionRequest) check() error {
	if err := r.keyIDRequest.check(); err != nil {
		return err
	}
	if d := r.PendingWindowInDays.val(); d < kms.MinDeleteDays || d > kms.MaxDeleteDays {
		return wire("InvalidParameter.InvalidPendingWindowInDays", "The parameter `PendingWindowInDays` must be 7 to 30.")
	}
	return nil
}

func scheduleKeyDeletion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *scheduleDeletionRequest) (*struct {
	DeletionDate uint64
	KeyId        string
}, error) {
	k, err := e.KMS.ScheduleDeletion(ctx, kmsScope(sc), r.KeyId, int(r.PendingWindowInDays.val()))
	if err != nil {
		return nil, err
	}
	return &struct {
		DeletionDate uint64
		KeyId        string
	}{unix(k.DeleteAt), k.ID}, nil
}

func cancelKeyDeletion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*struct{ KeyId string }, error) {
	k, err := e.KMS.CancelDeletion(ctx, kmsScope(sc), r.KeyId)
	if err != nil {
		return nil, err
	}
	return &struct{ KeyId string }{k.ID}, nil
}

type enableRotationRequest struct {
	keyIDRequest
	RotateDays *flexUint
}

func enableKeyRotation(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *enableRotationRequest) (*empty, error) {
	_, err := e.KMS.SetRotation(ctx, kmsScope(sc), r.KeyId, true, int(r.RotateDays.val()))
	return &empty{}, err
}

func disableKeyRotation(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*empty, error) {
	_, err := e.KMS.SetRotation(ctx, kmsScope(sc), r.KeyId, false, 0)
	return &empty{}, err
}

type rotationStatus struct {
	KeyRotationEnabled bool
	NextRotateTime     uint64
	RotateDays         uint64
	LastRotateTime     uint64
	// Coffer extensions: the re-wrap's progress.
	KeyVersions           int
	SecretVersions        int
	SecretVersionsPending int
}

func getKeyRotationStatus(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*rotationStatus, error) {
	k, st, err := e.KMS.Status(ctx, kmsScope(sc), r.KeyId)
	if err != nil {
		return nil, err
	}
	return &rotationStatus{KeyRotationEnabled: k.Rotation.Enabled, NextRotateTime: unix(k.Rotation.Next),
		RotateDays: uint64(k.Rotation.Days), LastRotateTime: unix(k.Rotation.Last), KeyVersions: len(k.Material),
		SecretVersions: st.Versions, SecretVersionsPending: st.Pending}, nil
}

func rotateKeyOnDemand(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *keyIDRequest) (*struct {
	KeyId      string
	KeyVersion int
}, error) {
	k, err := e.KMS.Rotate(ctx, kmsScope(sc), r.KeyId)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId      string
		KeyVersion int
	}{k.ID, len(k.Material)}, nil
}

type encryptRequest struct {
	keyIDRequest
	Plaintext         string
	EncryptionContext string
}

func (r *encryptRequest) check() error {
	if err := r.keyIDRequest.check(); err != nil {
		return err
	}
	return required("Plaintext", r.Plaintext)
}

func kmsEncrypt(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *encryptRequest) (*struct{ CiphertextBlob, KeyId string }, error) {
	pt, err := base64.StdEncoding.DecodeString(r.Plaintext)
	if err != nil || len(pt) == 0 || len(pt) > kms.MaxPlaintext {
		return nil, wire("InvalidParameterValue.InvalidPlaintext", "The parameter `Plaintext` must be base64 of 1 to 4096 bytes.")
	}
	defer clear(pt)
	ec, err := encryptionContext(r.EncryptionContext)
	if err != nil {
		return nil, err
	}
	k, blob, err := e.KMS.Encrypt(ctx, kmsScope(sc), r.KeyId, pt, ec)
	if err != nil {
		return nil, err
	}
	return &struct{ CiphertextBlob, KeyId string }{blobOut(blob, k.ID), k.ID}, nil
}

type decryptRequest struct {
	noCheck
	CiphertextBlob      string
	EncryptionContext   string
	EncryptionPublicKey string
	EncryptionAlgorithm string
	keyID               string
	raw                 []byte
}

func (r *decryptRequest) check() error {
	if err := required("CiphertextBlob", r.CiphertextBlob); err != nil {
		return err
	}
	if r.EncryptionPublicKey != "" || r.EncryptionAlgorithm != "" {
		return wire(codeUnsupportedOperation, "Returning the plaintext encrypted to a public key is not supported by this Coffer server.")
	}
	raw, id, ok := blobIn(r.CiphertextBlob)
	if !ok {
		return wire("InvalidParameterValue.InvalidCiphertext", "The parameter `CiphertextBlob` is not a ciphertext this service produced.")
	}
	r.raw, r.keyID = raw, id
	return nil
}

// prepare authorizes Decrypt on the key the blob names.
func (r *decryptRequest) prepare(c *api.Call) { c.ResourceNames = keyResource(c, r.keyID) }

func kmsDecrypt(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *decryptRequest) (*struct{ KeyId, Plaintext string }, error) {
	ec, err := encryptionContext(r.EncryptionContext)
	if err != nil {
		return nil, err
	}
	k, pt, err := e.KMS.Decrypt(ctx, kmsScope(sc), r.raw, ec)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return &struct{ KeyId, Plaintext string }{k.ID, base64.StdEncoding.EncodeToString(pt)}, nil
}

type generateDataKeyRequest struct {
	keyIDRequest
	KeySpec             string
	NumberOfBytes       *flexUint
	EncryptionContext   string
	EncryptionPublicKey string
	EncryptionAlgorithm string
	IsHostedByKms       *flexUint
	DataKeyName         string
	Description         string
	HsmClusterId        string
}

func (r *generateDataKeyRequest) check() error {
	if err := r.keyIDRequest.check(); err != nil {
		return err
	}
	if r.EncryptionPublicKey != "" || r.IsHostedByKms.val() == 1 {
		return wire(codeUnsupportedOperation, "Hosted data keys and public-key encryption of the result are not supported by this Coffer server.")
	}
	if !r.NumberOfBytes.set() && r.KeySpec != "AES_128" && r.KeySpec != "AES_256" {
		return wire(codeInvalidValue, "Give `KeySpec` (AES_128 or AES_256) or `NumberOfBytes` (1 to 1024).")
	}
	return nil
}

func generateDataKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *generateDataKeyRequest) (*struct {
	KeyId, Plaintext, CiphertextBlob, DataKeyId, TagMsg string
	TagCode                                             uint64
}, error) {
	size := 32
	if r.KeySpec == "AES_128" {
		size = 16
	}
	if r.NumberOfBytes.set() {
		size = int(r.NumberOfBytes.val())
	}
	ec, err := encryptionContext(r.EncryptionContext)
	if err != nil {
		return nil, err
	}
	k, dk, blob, err := e.KMS.GenerateDataKey(ctx, kmsScope(sc), r.KeyId, size, ec)
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	return &struct {
		KeyId, Plaintext, CiphertextBlob, DataKeyId, TagMsg string
		TagCode                                             uint64
	}{KeyId: k.ID, Plaintext: base64.StdEncoding.EncodeToString(dk), CiphertextBlob: blobOut(blob, k.ID), TagMsg: "ok"}, nil
}

type reEncryptRequest struct {
	decryptRequest
	DestinationKeyId             string
	SourceEncryptionContext      string
	DestinationEncryptionContext string
}

func (r *reEncryptRequest) check() error { return r.decryptRequest.check() }

func reEncrypt(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *reEncryptRequest) (*struct {
	CiphertextBlob, KeyId, SourceKeyId string
	ReEncrypted                        bool
}, error) {
	src, err := encryptionContext(r.SourceEncryptionContext)
	if err != nil {
		return nil, err
	}
	dst, err := encryptionContext(r.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	dest := r.DestinationKeyId
	if dest != "" && dest != r.keyID {
		// Encrypting under another key needs the right to do so on it.
		if err := e.Gate.Check(ctx, &api.Call{Family: c.Family, Action: c.Action, Region: c.Region, Principal: c.Principal,
			SourceIP: c.SourceIP, Secure: c.Secure, ResourceNames: keyResource(c, dest)}, "ReEncrypt", ""); err != nil {
			return nil, err
		}
	}
	from, to, blob, err := e.KMS.ReEncrypt(ctx, kmsScope(sc), r.raw, src, dest, dst)
	if err != nil {
		return nil, err
	}
	return &struct {
		CiphertextBlob, KeyId, SourceKeyId string
		ReEncrypted                        bool
	}{blobOut(blob, to.ID), to.ID, from.ID, true}, nil
}

type generateRandomRequest struct {
	noCheck
	NumberOfBytes *flexUint
}

func (r *generateRandomRequest) check() error {
	if n := r.NumberOfBytes.val(); n < 1 || n > 1024 {
		return wire(codeInvalidValue, "The parameter `NumberOfBytes` must be 1 to 1024.")
	}
	return nil
}

func generateRandom(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *generateRandomRequest) (*struct{ Plaintext string }, error) {
	b := make([]byte, r.NumberOfBytes.val())
	if _, err := rand.Read(b); err != nil {
		return nil, fault.Wrap("kms.GenerateRandom", fault.Internal, "cannot read random bytes", err)
	}
	return &struct{ Plaintext string }{base64.StdEncoding.EncodeToString(b)}, nil
}

// kmsStatus is GetServiceStatus's answer: every field of the SDK's type.
type kmsStatus struct {
	ServiceEnabled         bool
	InvalidType            int64
	UserLevel              uint64
	ProExpireTime          uint64
	ProRenewFlag           uint64
	ProResourceId          string
	ExclusiveVSMEnabled    bool
	ExclusiveHSMEnabled    bool
	SubscriptionInfo       string
	CmkUserCount           uint64
	CmkLimit               uint64
	ExclusiveHSMList       []string
	IsAllowedDataKeyHosted bool
	DataKeyLimit           uint64
	FreeDataKeyLimit       uint64
	DataKeyUsedCount       uint64
	SyncTaskList           []string
	IsAllowedSync          bool
}

func kmsServiceStatus(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *struct{ noCheck }) (*kmsStatus, error) {
	ks, err := e.KMS.List(ctx, kmsScope(sc), false)
	if err != nil {
		return nil, err
	}
	return &kmsStatus{ServiceEnabled: true, InvalidType: 1, CmkUserCount: uint64(len(ks)), CmkLimit: kms.MaxKeysPerRegion,
		ExclusiveHSMList: []string{}, SyncTaskList: []string{}}, nil
}
