package tc3

// Request and response shapes of the SSM 2019-09-23 actions, field for
// field as the Tencent SDKs send and read them. Responses carry every
// documented field, zero-valued when empty: clients dereference them.

type tagIn struct {
	TagKey   *string
	TagValue *string
}

type tagFilterIn struct {
	TagKey   *string
	TagValue []string
}

type nameRequest struct {
	SecretName string
}

type nameResponse struct {
	SecretName string
}

type nameVersionResponse struct {
	SecretName string
	VersionId  string
}

type createSecretRequest struct {
	SecretName       string
	VersionId        string
	Description      string
	KmsKeyId         string
	SecretType       *int64
	SecretBinary     *string
	SecretString     *string
	AdditionalConfig string
	Tags             []tagIn
	KmsHsmClusterId  string
	EncryptType      *int64
}

type createSecretResponse struct {
	SecretName string
	VersionId  string
	TagCode    uint64
	TagMsg     string
}

type valueRequest struct {
	SecretName   string
	VersionId    string
	SecretBinary *string
	SecretString *string
}

type getSecretValueRequest struct {
	SecretName          string
	VersionId           string
	EncryptionPublicKey string
	EncryptionAlgorithm string
}

type getSecretValueResponse struct {
	SecretName   string
	VersionId    string
	SecretBinary string
	SecretString string
}

type deleteSecretRequest struct {
	SecretName           string
	RecoveryWindowInDays *int64
	CleanSSHKey          *bool
	DeleteMode           *int64
}

type deleteSecretResponse struct {
	SecretName string
	DeleteTime int64
	FlowID     int64
}

type describeSecretResponse struct {
	SecretName            string
	Description           string
	KmsKeyId              string
	CreateUin             uint64
	Status                string
	DeleteTime            uint64
	CreateTime            uint64
	SecretType            int64
	ProductName           string
	ResourceID            string
	RotationStatus        bool
	RotationFrequency     int64
	ResourceName          string
	ProjectID             int64
	AssociatedInstanceIDs []string
	TargetUin             uint64
	AdditionalConfig      string
	EncryptType           uint64
	EncryptSwitching      bool
	CreateUinString       string
	TargetUinString       string
	AccountInfoList       []secretAccountInfo
	NextRotationTime      string
	// Coffer extensions: the CMK's kind and state. KmsKeyState "Deleted"
	// means the key's material was destroyed: the secret's values are
	// crypto-shredded and cannot be read again.
	KmsKeyType  string
	KmsKeyState string
	// Coffer extension: the roll-out of a new version in progress, or null.
	Rollout *rolloutOut
	// Coffer extensions: replication. PrimaryRegion is the primary's region
	// for a replica or a replicated primary, "" otherwise.
	PrimaryRegion     string
	ReplicationStatus []replicaStatusOut
}

type secretAccountInfo struct {
	AccountName string
	Host        []string
	Version     string
	RotatedTime string
}

type listSecretsRequest struct {
	Offset           *int64
	Limit            *int64
	OrderType        *int64
	State            *int64
	SearchSecretName string
	TagFilters       []tagFilterIn
	SecretType       *int64
	ProductName      string
	EncryptType      *int64
	InstanceID       string
}

type listSecretsResponse struct {
	TotalCount      uint64
	SecretMetadatas []secretMetadata
}

type secretMetadata struct {
	SecretName            string
	Description           string
	KmsKeyId              string
	CreateUin             uint64
	Status                string
	DeleteTime            uint64
	CreateTime            uint64
	KmsKeyType            string
	RotationStatus        int64
	NextRotationTime      uint64
	SecretType            int64
	ProductName           string
	ResourceName          string
	ProjectID             int64
	AssociatedInstanceIDs []string
	TargetUin             uint64
	RotationFrequency     int64
	ResourceID            string
	RotationBeginTime     string
	EncryptType           uint64
	EncryptSwitching      bool
	CreateUinString       string
	TargetUinString       string
}

type listVersionsResponse struct {
	SecretName string
	Versions   []versionInfo
}

type versionInfo struct {
	VersionId  string
	CreateTime uint64
}

type deleteVersionRequest struct {
	SecretName string
	VersionId  string
}

type updateDescriptionRequest struct {
	SecretName  string
	Description *string
}

type regionsResponse struct {
	Regions []string
}

type serviceStatusResponse struct {
	ServiceEnabled         bool
	InvalidType            int64
	AccessKeyEscrowEnabled bool
	ExpireTime             string
	QPSLimit               int64
	SecretLimit            int64
	PayModel               string
	RenewFlag              int64
	ResourceId             string
	TotalCount             int64
	ResourceRegion         int64
}

type supportedProductsResponse struct {
	Products   []string
	TotalCount int64
}
