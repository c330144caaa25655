package awsjson

import (
	"regexp"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// The AWS stage labels and the core's stages they spell.
var stageNames = map[string]string{
	"AWSCURRENT":  secrets.StageCurrent,
	"AWSPREVIOUS": secrets.StagePrevious,
	"AWSPENDING":  secrets.StagePending,
}

// toCore spells an AWS label as the core's stage. Custom labels pass
// through, but may not take a core stage's own name.
func toCore(label string) (string, error) {
	if s, ok := stageNames[label]; ok {
		return s, nil
	}
	for _, s := range stageNames {
		if label == s {
			return "", fail(errInvalidParameter, "The staging label "+clip(label)+" is reserved; use AWSCURRENT, AWSPREVIOUS or AWSPENDING.")
		}
	}
	return label, nil
}

func toCoreAll(labels []string) ([]string, error) {
	if labels == nil {
		return nil, nil
	}
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		s, err := toCore(l)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// toAWSLabel spells a core stage as AWS's label.
func toAWSLabel(stage string) string {
	for l, s := range stageNames {
		if s == stage {
			return l
		}
	}
	return stage
}

func toAWSLabels(stages []string) []string {
	out := make([]string, 0, len(stages))
	for _, s := range stages {
		out = append(out, toAWSLabel(s))
	}
	slices.Sort(out)
	return out
}

// ARN returns a secret's ARN: its name and the first six characters of its
// id, which differ between a secret and a later one of the same name.
func ARN(c *api.Call, sec *secrets.Secret) string {
	return arnFor(c.Region, sec.Account, sec.Name, sec.ID[:6])
}

func arnFor(region, account, name, suffix string) string {
	return "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + name + "-" + suffix
}

var (
	awsName   = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	arnSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)
)

// checkName validates a name as AWS does.
func checkName(name string) error {
	if !awsName.MatchString(name) {
		return fail(errValidation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// resolve turns a SecretId (a name, a full ARN or a partial ARN) into the
// name the core looks up, pinned to the ARN's suffix for a full ARN, in the
// call's scope. An ARN of another region, or of another account than the
// call's resource account, names no secret here.
func resolve(c *api.Call, id string) (string, error) {
	name, account, err := resolveAccount(c, id)
	if err == nil && account != c.Scope().Account {
		err = fail(errResourceNotFound, msgNotFound)
	}
	return name, err
}

// resolveAccount is resolve for a SecretId that may name another account's
// secret by ARN: it returns the name and the owning account.
func resolveAccount(c *api.Call, id string) (name, account string, err error) {
	if id == "" {
		return "", "", fail(errInvalidParameter, "SecretId is required.")
	}
	if !strings.HasPrefix(id, "arn:") {
		return id, c.Principal.Account, checkName(id)
	}
	parts := strings.SplitN(id, ":", 7)
	if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" || !accountID.MatchString(parts[4]) {
		return "", "", fail(errInvalidParameter, "SecretId is not a valid Secrets Manager ARN.")
	}
	if parts[3] != c.Region {
		return "", "", fail(errResourceNotFound, msgNotFound)
	}
	res := parts[6]
	if arnSuffix.MatchString(res) {
		name := res[:len(res)-7]
		return secrets.Pin(name, res[len(res)-6:]), parts[4], checkName(name)
	}
	return res, parts[4], checkName(res)
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)
