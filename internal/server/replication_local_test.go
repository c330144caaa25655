package server_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/coffer-secrets/coffer/internal/secrets"
)

// TestReplicationBetweenLocalRegions replicates a secret to another region
// of the same deployment: the replica follows every new version and stage
// move, refuses writes, is sealed under the other region's key, and
// becomes a writable primary when promoted.
func TestReplicationBetweenLocalRegions(t *testing.T) {
	s := startServer(t, "")
	ctx := t.Context()
	primary := awsClient(s, key{testKeyID, testSecret}, "")
	replica := secretsmanager.New(secretsmanager.Options{
		Region: "ap-shanghai", BaseEndpoint: aws.String(s.URL()), RetryMaxAttempts: 1,
		Credentials: primary.Options().Credentials,
	})
	out, err := primary.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("v1-value"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("ap-shanghai")}}})
	if err != nil {
		t.Fatal(err)
	}
	value := func() string {
		v, err := replica.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db")})
		if err != nil {
			return "error: " + awsCode(err)
		}
		return aws.ToString(v.SecretString)
	}
	eventually(t, "the replica holds the first value", func() bool { return value() == "v1-value" })
	for i, v := range []string{"v2-value", "v3-value"} {
		if _, err := primary.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the replica follows put "+string(rune('1'+i)), func() bool { return value() == v })
	}
	d, err := primary.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.PrimaryRegion) != testRegion || len(d.ReplicationStatus) != 1 || aws.ToString(d.ReplicationStatus[0].Region) != "ap-shanghai" {
		t.Fatalf("primary's description: %+v", d)
	}
	eventually(t, "InSync", func() bool {
		d, _ := primary.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
		return d != nil && d.ReplicationStatus[0].Status == smtypes.StatusTypeInSync
	})
	rd, err := replica.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")})
	if err != nil || aws.ToString(rd.PrimaryRegion) != testRegion {
		t.Fatalf("replica's description: %v %+v", err, rd)
	}
	if want := strings.Replace(aws.ToString(out.ARN), ":"+testRegion+":", ":ap-shanghai:", 1); aws.ToString(rd.ARN) != want {
		t.Fatalf("replica ARN %s, want the primary's in its own region, %s", aws.ToString(rd.ARN), want)
	}
	if len(rd.VersionIdsToStages) != 2 { // AWSCURRENT and AWSPREVIOUS; the first is deprecated
		t.Fatalf("replica versions: %v", rd.VersionIdsToStages)
	}
	// A replica refuses writes.
	_, err = replica.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("x")})
	if awsCode(err) != "InvalidRequestException" {
		t.Fatalf("put to a replica: %v", err)
	}
	// Sealed under the replica region's own key.
	pk, rk := keyOf(t, s, testRegion, "app/db"), keyOf(t, s, "ap-shanghai", "app/db")
	if pk == rk || pk == "" {
		t.Fatalf("primary and replica share key %q", pk)
	}
	// Promotion: the replica becomes writable and stops following.
	if _, err := replica.StopReplicationToReplica(ctx, &secretsmanager.StopReplicationToReplicaInput{SecretId: aws.String("app/db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := replica.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("promoted")}); err != nil {
		t.Fatalf("put after promotion: %v", err)
	}
	if _, err := replica.StopReplicationToReplica(ctx, &secretsmanager.StopReplicationToReplicaInput{SecretId: aws.String("app/db")}); awsCode(err) != "InvalidRequestException" {
		t.Fatalf("promoting a primary: %v", err)
	}
	// The old primary's shipping now fails visibly rather than overwrite.
	if _, err := primary.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String("v4-value")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old primary reports the failure", func() bool {
		d, _ := primary.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
		return d != nil && d.ReplicationStatus[0].Status == smtypes.StatusTypeFailed
	})
	if value() != "promoted" {
		t.Fatalf("the promoted secret was overwritten: %s", value())
	}
	// Bad inputs.
	for _, region := range []string{testRegion, "xx-nowhere-9", "BAD"} {
		_, err := primary.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{SecretId: out.ARN,
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String(region)}}})
		if awsCode(err) != "InvalidParameterException" {
			t.Errorf("replicate to %s: %v", region, err)
		}
	}
	// A replicated primary cannot be deleted; removing the region can, and
	// leaves the promoted secret there alone.
	_, err = primary.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	if awsCode(err) != "InvalidRequestException" {
		t.Fatalf("deleting a replicated primary: %v", err)
	}
	if _, err := primary.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{SecretId: out.ARN, RemoveReplicaRegions: []string{"ap-shanghai"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the region is removed", func() bool {
		d, _ := primary.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
		return d != nil && len(d.ReplicationStatus) == 0
	})
	if value() != "promoted" {
		t.Fatalf("removal deleted the promoted secret: %s", value())
	}
	if _, err := primary.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatalf("deleting the primary once unreplicated: %v", err)
	}

	// A second secret: removing its region deletes the replica there.
	if _, err := primary.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/two"), SecretString: aws.String("two"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("ap-shanghai")}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second replica", func() bool {
		_, err := replica.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/two")})
		return err == nil
	})
	if _, err := primary.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{SecretId: aws.String("app/two"), RemoveReplicaRegions: []string{"ap-shanghai"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second replica is deleted", func() bool {
		_, err := replica.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/two")})
		return awsCode(err) == "ResourceNotFoundException"
	})
}

func keyOf(t *testing.T, s *testServer, region, name string) string {
	t.Helper()
	sec, err := s.Secrets.Meta(t.Context(), secretsScope(region), name)
	if err != nil {
		t.Fatal(err)
	}
	return sec.KeyID
}

func secretsScope(region string) secrets.Scope {
	return secrets.Scope{Account: testAccount, Region: region}
}
