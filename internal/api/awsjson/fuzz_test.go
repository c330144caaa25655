package awsjson

import (
	"errors"
	"testing"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/iam"
)

// FuzzRequest feeds arbitrary bodies to every request type: decoding and
// checking never panic, and every failure is an AWS error.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"Name":"a","SecretString":"x","ClientRequestToken":"00000000-0000-0000-0000-000000000001"}`,
		`{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:a-abcdef","VersionStage":"AWSCURRENT"}`,
		`{"Filters":[{"Key":"all","Values":["!x"]}],"MaxResults":5,"NextToken":"abc"}`,
		`{"SecretId":"a","RecoveryWindowInDays":7}`, `{"SecretIdList":["a","b"]}`, `[`, `{"Tags":{}}`,
	} {
		f.Add([]byte(s))
	}
	c := &api.Call{Region: "us-east-1", Principal: iam.Principal{Account: "123456789012"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, req := range []request{
			&createRequest{}, &getRequest{}, &putRequest{}, &updateRequest{}, &stageRequest{},
			&deleteRequest{}, &idRequest{}, &tagRequest{}, &untagRequest{}, &listRequest{},
			&versionsRequest{}, &batchRequest{}, &passwordRequest{}, &policyRequest{}, &validateRequest{},
		} {
			err := decode(body, req)
			if err == nil {
				err = req.check(c)
				_ = req.resource()
			}
			var a *awsError
			if err != nil && !errors.As(err, &a) {
				t.Fatalf("%T: error %v is not an AWS error", req, err)
			}
			if r, ok := req.(*listRequest); ok && err == nil {
				if _, err := matcher(r.Filters); err != nil && !errors.As(err, &a) {
					t.Fatalf("filters: %v", err)
				}
			}
		}
	})
}
