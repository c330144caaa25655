package secrets

import (
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The core's own name rules are the union of what the API families allow;
// each edge adds its protocol's stricter rule where it has one.
const (
	maxNameLen        = 512
	maxVersionIDLen   = 64
	maxDescriptionLen = 2048
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
	maxTags           = 50
	maxStageLen       = 256
	maxStagesPerVer   = 20
	maxConfigLen      = 4096
)

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '/' || c == '_' || c == '+' || c == '=' || c == '.' || c == '@' || c == '-'
}

func versionChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

func checkChars(op, what, s string, max int, ok func(byte) bool) error {
	if s == "" {
		return fault.E(op, fault.Missing, what+" is required")
	}
	if len(s) > max {
		return fault.E(op, fault.Invalid, fmt.Sprintf("%s is longer than %d bytes", what, max))
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return fault.E(op, fault.Invalid, fmt.Sprintf("%s contains a character that is not allowed at byte %d", what, i))
		}
	}
	return nil
}

// CheckName validates a secret name against the core's rule.
func CheckName(op, name string) error {
	return checkChars(op, "secret name", name, maxNameLen, nameChar)
}

// CheckVersionID validates a version id against the core's rule.
func CheckVersionID(op, id string) error {
	return checkChars(op, "version id", id, maxVersionIDLen, versionChar)
}

func checkDescription(op, d string) error {
	if len(d) > maxDescriptionLen {
		return fault.E(op, fault.Invalid, fmt.Sprintf("description is longer than %d bytes", maxDescriptionLen))
	}
	return nil
}

func checkTags(op string, tags []store.Tag) error {
	if len(tags) > maxTags {
		// Invalid, not Limit: clients retry a Limit error as if it might pass later.
		return fault.E(op, fault.Invalid, fmt.Sprintf("a secret has at most %d tags", maxTags))
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > maxTagKeyLen {
			return fault.E(op, fault.Invalid, fmt.Sprintf("tag keys are 1 to %d bytes", maxTagKeyLen))
		}
		if len(t.Value) > maxTagValueLen {
			return fault.E(op, fault.Invalid, fmt.Sprintf("tag values are at most %d bytes", maxTagValueLen))
		}
		if seen[t.Key] {
			return fault.E(op, fault.Invalid, "tag key "+t.Key+" is given twice").Because(fault.TagKeysDuplicated)
		}
		seen[t.Key] = true
	}
	return nil
}

func checkStages(op string, stages []string) error {
	if len(stages) > maxStagesPerVer {
		return fault.E(op, fault.Limit, fmt.Sprintf("a version has at most %d stage labels", maxStagesPerVer))
	}
	seen := make(map[string]bool, len(stages))
	for _, s := range stages {
		if s == "" || len(s) > maxStageLen {
			return fault.E(op, fault.Invalid, fmt.Sprintf("stage labels are 1 to %d bytes", maxStageLen))
		}
		if seen[s] {
			return fault.E(op, fault.Invalid, "stage label "+s+" is given twice")
		}
		seen[s] = true
	}
	return nil
}

func (s *Service) checkValue(op string, v Value) error {
	if v.Len() == 0 {
		return fault.E(op, fault.Invalid, "the secret value is empty")
	}
	if v.Len() > s.limits().MaxValueBytes {
		return fault.E(op, fault.Invalid, fmt.Sprintf("the secret value is %d bytes, more than the limit of %d", v.Len(), s.limits().MaxValueBytes))
	}
	return nil
}
