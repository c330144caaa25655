package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestAWSSmoke(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := secretsmanager.New(secretsmanager.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(s.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
	out, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("hunter2")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s", *out.ARN, *out.VersionId)
	got, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: out.ARN})
	if err != nil || *got.SecretString != "hunter2" {
		t.Fatalf("%v %v", got, err)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", d.VersionIdsToStages)
	l, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil || len(l.SecretList) != 1 || l.NextToken != nil {
		t.Fatalf("%v %v", l, err)
	}
	tc := s.client(testRegion)
	v := tc.must("GetSecretValue", map[string]any{"SecretName": "app/db", "VersionId": "SSM_Current"})
	if v["SecretString"] != "hunter2" {
		t.Fatalf("tencent read: %v", v)
	}
}
