package policy

// Equivalents returns the names, in the other API family, of the call that
// action names: for "ssm:GetSecretValue" it returns
// ["secretsmanager:GetSecretValue"], and the other way round. A request
// carries them in Request.Equivalents, so that a CAM policy granting
// ssm:GetSecretValue and an AWS policy granting
// secretsmanager:GetSecretValue both decide the same call, whichever edge
// received it.
//
// A name is listed only when a grant of it covers every form of the call:
// ssm:UpdateDescription maps to secretsmanager:UpdateSecret (which may
// change a description), but secretsmanager:UpdateSecret maps to nothing,
// because no single SSM action covers changing both a value and a
// description. An edge that wants finer mapping can pass names of its own;
// for a call that needs two grants, evaluate once per name.
//
// It returns nil for an action without equivalents. The returned slice is
// shared: callers must not modify it.
func Equivalents(action string) []string {
	return equivalents[action]
}

// equivalents is the table behind Equivalents. Both directions of a pair
// are listed where the two actions do the same thing.
var equivalents = func() map[string][]string {
	m := map[string][]string{}
	same := func(ssm, sm string) {
		m[ssm] = append(m[ssm], sm)
		m[sm] = append(m[sm], ssm)
	}
	covers := func(call, grant string) { m[call] = append(m[call], grant) }

	// The same operation in both APIs.
	for _, a := range []string{
		"CreateSecret", "GetSecretValue", "PutSecretValue", "DeleteSecret",
		"RestoreSecret", "DescribeSecret", "ListSecrets", "ListSecretVersionIds",
	} {
		same("ssm:"+a, "secretsmanager:"+a)
	}
	// SSM calls that an AWS grant covers, but not the other way round.
	covers("ssm:UpdateSecret", "secretsmanager:UpdateSecret")      // a value, in place
	covers("ssm:UpdateDescription", "secretsmanager:UpdateSecret") // a description
	covers("ssm:CreateProductSecret", "secretsmanager:CreateSecret")
	covers("ssm:CreateSSHKeyPairSecret", "secretsmanager:CreateSecret")
	covers("ssm:GetSSHKeyPairValue", "secretsmanager:GetSecretValue")
	covers("ssm:RotateProductSecret", "secretsmanager:RotateSecret")  // rotate now
	covers("ssm:UpdateRotationStatus", "secretsmanager:RotateSecret") // rotation settings
	covers("ssm:DescribeRotationDetail", "secretsmanager:DescribeSecret")
	covers("ssm:DescribeRotationHistory", "secretsmanager:DescribeSecret")
	// AWS calls that an SSM grant covers.
	covers("secretsmanager:CancelRotateSecret", "ssm:UpdateRotationStatus")
	// No equivalent: ssm:EnableSecret, ssm:DisableSecret,
	// ssm:DeleteSecretVersion, ssm:GetRegions, ssm:GetServiceStatus, the
	// remaining SSM product and async calls; secretsmanager:UpdateSecret,
	// UpdateSecretVersionStage, RotateSecret, BatchGetSecretValue (which
	// needs GetSecretValue on each secret as well), TagResource,
	// UntagResource, GetRandomPassword, the resource-policy and the
	// replication calls.
	return m
}()
