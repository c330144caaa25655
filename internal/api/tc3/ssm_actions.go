package tc3

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// currentVersionID is Tencent's name for the version in use: CreateSecret's
// default version id, and (when no version has that literal id) the version
// holding the core's current stage.
const currentVersionID = "SSM_Current"

func (r *createSecretRequest) resource() string { return r.SecretName }
func (r *createSecretRequest) check() error {
	if err := checkName(r.SecretName); err != nil {
		return err
	}
	if r.VersionId != "" {
		if err := checkVersion(r.VersionId); err != nil {
			return err
		}
	}
	if r.SecretType != nil && *r.SecretType != int64(store.TypeUserDefined) && *r.SecretType != int64(store.TypeRedis) {
		return wire(codeInvalidValue, "CreateSecret creates SecretType 0 (user-defined) or 4 (Redis); use CreateProductSecret or CreateSSHKeyPairSecret for the others.")
	}
	if r.EncryptType != nil && *r.EncryptType != 0 {
		return wire(codeUnsupportedOperation, "Only EncryptType 0 is supported: every value is envelope-encrypted under a KMS key.")
	}
	if r.KmsHsmClusterId != "" {
		return wire(codeUnsupportedOperation, "KmsHsmClusterId is not supported; the root key provider is chosen by the server.")
	}
	return nil
}

func createSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createSecretRequest) (*createSecretResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary, e.Gate.Secrets.ValueLimit())
	if err != nil {
		return nil, err
	}
	tg, err := tags(r.Tags)
	if err != nil {
		return nil, err
	}
	in := secrets.CreateInput{
		Name: r.SecretName, Description: r.Description, KeyID: r.KmsKeyId, Tags: tg,
		Config: r.AdditionalConfig, CreatedBy: c.Principal.ID, Value: &v, VersionID: r.VersionId,
	}
	if r.SecretType != nil {
		in.Type = store.SecretType(*r.SecretType)
	}
	if in.VersionID == "" {
		in.VersionID = currentVersionID
	}
	_, ver, err := e.Gate.Secrets.Create(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	return &createSecretResponse{SecretName: r.SecretName, VersionId: ver.ID, TagMsg: "ok"}, nil
}

func (r *getSecretValueRequest) resource() string { return r.SecretName }
func (r *getSecretValueRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if err := required("VersionId", r.VersionId); err != nil {
		return err
	}
	if r.EncryptionPublicKey != "" || r.EncryptionAlgorithm != "" {
		return wire(codeUnsupportedOperation, "EncryptionPublicKey and EncryptionAlgorithm are not supported; values travel over TLS.")
	}
	return nil
}

func getSecretValue(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *getSecretValueRequest) (*getSecretValueResponse, error) {
	sel := secrets.Selector{VersionID: r.VersionId}
	if r.VersionId == currentVersionID {
		sel.OrStage = secrets.StageCurrent
	}
	_, _, val, err := e.Gate.Secrets.GetValue(ctx, sc, r.SecretName, sel)
	if err != nil {
		return nil, err
	}
	out := &getSecretValueResponse{SecretName: r.SecretName, VersionId: r.VersionId}
	if val.IsBinary() {
		out.SecretBinary = base64.StdEncoding.EncodeToString(val.Bytes())
	} else {
		out.SecretString = val.Text()
	}
	return out, nil
}

func (r *valueRequest) resource() string { return r.SecretName }
func (r *valueRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	return checkVersion(r.VersionId)
}

func putSecretValue(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *valueRequest) (*nameVersionResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary, e.Gate.Secrets.ValueLimit())
	if err != nil {
		return nil, err
	}
	_, ver, err := e.Gate.Secrets.PutValue(ctx, sc, r.SecretName, secrets.PutInput{VersionID: r.VersionId, Value: v})
	if err != nil {
		return nil, err
	}
	return &nameVersionResponse{SecretName: r.SecretName, VersionId: ver.ID}, nil
}

func updateSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *valueRequest) (*nameVersionResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary, e.Gate.Secrets.ValueLimit())
	if err != nil {
		return nil, err
	}
	ver, err := e.Gate.Secrets.Overwrite(ctx, sc, r.SecretName, r.VersionId, v)
	if err != nil {
		return nil, err
	}
	return &nameVersionResponse{SecretName: r.SecretName, VersionId: ver.ID}, nil
}

func (r *deleteSecretRequest) resource() string { return r.SecretName }
func (r *deleteSecretRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if r.RecoveryWindowInDays != nil && (*r.RecoveryWindowInDays < 0 || *r.RecoveryWindowInDays > 30) {
		return wire(codeInvalidValue, "The parameter `RecoveryWindowInDays` must be 0 to 30.")
	}
	if r.DeleteMode != nil && *r.DeleteMode != 0 && *r.DeleteMode != 1 {
		return wire(codeInvalidValue, "The parameter `DeleteMode` must be 0 or 1.")
	}
	return nil
}

func deleteSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *deleteSecretRequest) (*deleteSecretResponse, error) {
	in := secrets.DeleteInput{RequireDisabled: true}
	if r.RecoveryWindowInDays != nil {
		in.RecoveryDays = int(*r.RecoveryWindowInDays)
	}
	sec, err := e.Gate.Secrets.Delete(ctx, sc, r.SecretName, in)
	if err != nil {
		return nil, err
	}
	out := &deleteSecretResponse{SecretName: r.SecretName, DeleteTime: sec.DeleteAt.Unix()}
	if r.DeleteMode != nil && *r.DeleteMode == 1 && sec.Type == store.TypeDatabase && e.Rotation != nil {
		// The secret is gone (or pending deletion); its accounts follow
		// in a flow of their own, kept if the secret is restored in time.
		run, err := e.Rotation.DropAccounts(ctx, sec)
		if err != nil {
			return nil, err
		}
		out.FlowID = run.ID
	}
	return out, nil
}

func restoreSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.Restore(ctx, sc, r.SecretName, false); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

func disableSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.Disable(ctx, sc, r.SecretName); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

func enableSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.Enable(ctx, sc, r.SecretName); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

func describeSecret(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*describeSecretResponse, error) {
	sec, _, err := e.Gate.Secrets.Describe(ctx, sc, r.SecretName)
	if err != nil {
		return nil, err
	}
	m := metadata(sec)
	kind, state := e.keyKind(ctx, sc, sec.KeyID, nil)
	out := &describeSecretResponse{
		KmsKeyType: kind, KmsKeyState: state,
		SecretName: m.SecretName, Description: m.Description, KmsKeyId: m.KmsKeyId,
		CreateUin: m.CreateUin, Status: m.Status, DeleteTime: m.DeleteTime, CreateTime: m.CreateTime,
		SecretType: m.SecretType, ProductName: m.ProductName, ResourceID: m.ResourceID,
		RotationStatus: sec.Rotation.Enabled, RotationFrequency: m.RotationFrequency,
		AssociatedInstanceIDs: []string{}, AdditionalConfig: sec.Config,
		CreateUinString: m.CreateUinString, AccountInfoList: []secretAccountInfo{},
		NextRotationTime: formatTime(sec.Rotation.Next), Rollout: rolloutOf(sec),
		PrimaryRegion: primaryOf(sec), ReplicationStatus: replicationOut(sec, e.now()),
	}
	switch sec.Type {
	case store.TypeSSHKey:
		var cfg struct {
			ProjectID  int64
			SSHKeyName string
		}
		_ = json.Unmarshal([]byte(sec.Config), &cfg)
		out.AdditionalConfig, out.ProjectID, out.ResourceName = "", cfg.ProjectID, cfg.SSHKeyName
	case store.TypeDatabase:
		if e.Rotation != nil {
			accounts, err := e.Rotation.Accounts(ctx, sc, r.SecretName)
			if err != nil {
				return nil, err
			}
			for _, a := range accounts {
				ai := secretAccountInfo{AccountName: a.Name, Host: a.Hosts, Version: a.VersionID, RotatedTime: formatTime(a.RotatedAt)}
				if a.Current {
					ai.Version = currentVersionID
				}
				if ai.Host == nil {
					ai.Host = []string{}
				}
				out.AccountInfoList = append(out.AccountInfoList, ai)
			}
		}
	}
	return out, nil
}

func (r *deleteVersionRequest) resource() string { return r.SecretName }
func (r *deleteVersionRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	return checkVersion(r.VersionId)
}

func deleteSecretVersion(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *deleteVersionRequest) (*nameVersionResponse, error) {
	if err := e.Gate.Secrets.DeleteVersion(ctx, sc, r.SecretName, r.VersionId); err != nil {
		return nil, err
	}
	return &nameVersionResponse{SecretName: r.SecretName, VersionId: r.VersionId}, nil
}

func listSecretVersionIds(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*listVersionsResponse, error) {
	_, vs, err := e.Gate.Secrets.Describe(ctx, sc, r.SecretName)
	if err != nil {
		return nil, err
	}
	out := &listVersionsResponse{SecretName: r.SecretName, Versions: make([]versionInfo, 0, len(vs))}
	for _, v := range vs {
		out.Versions = append(out.Versions, versionInfo{VersionId: v.ID, CreateTime: unix(v.CreatedAt)})
	}
	return out, nil
}

func (r *updateDescriptionRequest) resource() string { return r.SecretName }
func (r *updateDescriptionRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if r.Description == nil {
		return wire(codeMissingParameter, "The parameter `Description` is required.")
	}
	return nil
}

func updateDescription(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *updateDescriptionRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.UpdateMeta(ctx, sc, r.SecretName, secrets.MetaPatch{Description: r.Description}); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

// emptyRequest is the input of actions that take no parameters.
type emptyRequest struct{}

func (*emptyRequest) check() error     { return nil }
func (*emptyRequest) resource() string { return "" }

func getRegions(_ context.Context, e *Edge, _ secrets.Scope, _ *api.Call, _ *emptyRequest) (*regionsResponse, error) {
	return &regionsResponse{Regions: append([]string{}, e.Gate.Regions...)}, nil
}

func getServiceStatus(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, _ *emptyRequest) (*serviceStatusResponse, error) {
	n, err := e.Gate.Secrets.Count(ctx, sc)
	if err != nil {
		return nil, err
	}
	return &serviceStatusResponse{
		ServiceEnabled: true, InvalidType: 1, PayModel: "SelfHosted",
		SecretLimit: int64(e.Gate.Secrets.SecretLimit()), TotalCount: int64(n),
		QPSLimit: int64(e.Gate.Limits.AccountRate()), // 0: no limit
	}, nil
}

func describeSupportedProducts(_ context.Context, e *Edge, _ secrets.Scope, _ *api.Call, _ *emptyRequest) (*supportedProductsResponse, error) {
	out := &supportedProductsResponse{Products: []string{}}
	if e.Rotation != nil {
		out.Products = []string{"Mysql", "PostgreSQL"}
	}
	out.TotalCount = int64(len(out.Products))
	return out, nil
}

func metadata(sec *secrets.Secret) secretMetadata {
	uin, _ := strconv.ParseUint(sec.CreatedBy, 10, 64)
	product := sec.Product
	if product == "" && sec.Type == store.TypeUserDefined {
		product = "default"
	}
	m := secretMetadata{
		SecretName: sec.Name, Description: sec.Description, KmsKeyId: sec.KeyID,
		CreateUin: uin, Status: string(sec.Status), DeleteTime: unix(sec.DeleteAt),
		CreateTime: unix(sec.CreatedAt), KmsKeyType: "DEFAULT", SecretType: int64(sec.Type),
		ProductName: product, AssociatedInstanceIDs: []string{}, ResourceID: sec.ResourceID,
		RotationFrequency: int64(sec.Rotation.Days), NextRotationTime: unix(sec.Rotation.Next),
		RotationBeginTime: formatTime(sec.Rotation.Begin), CreateUinString: sec.CreatedBy,
	}
	if sec.Rotation.Enabled {
		m.RotationStatus = 1
	}
	return m
}

func unix(t time.Time) uint64 {
	if u := t.Unix(); u > 0 {
		return uint64(u)
	}
	return 0
}

// tencentTime is the layout of Tencent's date-time strings, which Coffer
// writes in UTC (docs/api-tencent.md).
const tencentTime = "2006-01-02 15:04:05"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(tencentTime)
}

// requestTags are the tags CreateSecret sets, for qcs:request_tag.
func (r *createSecretRequest) requestTags() map[string]string {
	if len(r.Tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(r.Tags))
	for _, t := range r.Tags {
		if t.TagKey != nil && t.TagValue != nil {
			m[*t.TagKey] = *t.TagValue
		}
	}
	return m
}

// keyKind says whether a secret's CMK is the account's default key
// (DEFAULT) or one the customer created (CUSTOMER), and the key's state.
// memo, when not nil, remembers answers across a listing.
func (e *Edge) keyKind(ctx context.Context, sc secrets.Scope, keyID string, memo map[string][2]string) (string, string) {
	if v, ok := memo[keyID]; ok {
		return v[0], v[1]
	}
	kind, state := "DEFAULT", ""
	if k, err := e.Gate.Secrets.Key(ctx, sc, keyID); err == nil {
		state = string(k.State)
		if !k.Default {
			kind = "CUSTOMER"
		}
	}
	if memo != nil {
		memo[keyID] = [2]string{kind, state}
	}
	return kind, state
}
