package client

import (
	"context"
	"time"
)

// AssumeRoleInput asks STS for temporary credentials of a role.
type AssumeRoleInput struct {
	RoleArn     string        // qcs::cam::uin/ACCOUNT:roleName/NAME
	SessionName string        // names the session in the audit log
	Duration    time.Duration // 0 for the server's default; at most the role's session duration
	Policy      string        // an optional session policy that narrows the role's rights
	ExternalID  string        // when the role's trust policy asks for one
}

// AssumeRole calls STS AssumeRole with c's credentials and returns the
// role session's temporary credentials. Use it with TemporaryCredentials
// to give another client renewing credentials. It returns an *Error:
// UnauthorizedOperation when the trust policy does not allow the caller,
// ResourceNotFound.RoleNotFound, InvalidParameter.OverTimeError for a
// duration over the role's limit.
func (c *Client) AssumeRole(ctx context.Context, in AssumeRoleInput) (Credentials, error) {
	req := struct {
		RoleArn, RoleSessionName string
		DurationSeconds          int64  `json:",omitempty"`
		Policy                   string `json:",omitempty"`
		ExternalId               string `json:",omitempty"`
	}{in.RoleArn, in.SessionName, int64(in.Duration / time.Second), in.Policy, in.ExternalID}
	var out struct {
		Credentials struct{ Token, TmpSecretId, TmpSecretKey string }
		ExpiredTime int64
	}
	if err := c.DoProduct(ctx, STS, "AssumeRole", req, &out); err != nil {
		return Credentials{}, err
	}
	return Credentials{SecretID: out.Credentials.TmpSecretId, SecretKey: out.Credentials.TmpSecretKey,
		Token: out.Credentials.Token, Expires: time.Unix(out.ExpiredTime, 0)}, nil
}
