package rotation

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/password"
	"github.com/coffer-secrets/coffer/internal/rotation/schedule"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The rotators Coffer runs. A secret's Spec names one.
const (
	RotatorRandom   = "random"     // a new random value (a password policy)
	RotatorPostgres = "postgresql" // a PostgreSQL user (Strategy single or alternating)
	RotatorMySQL    = "mysql"      // a MySQL/MariaDB user (Strategy single or alternating)
	RotatorSSH      = "ssh"        // a new SSH key pair
	RotatorWebhook  = "webhook"    // the four-step contract over HTTPS to a user endpoint
	RotatorProduct  = "product"    // Tencent's dual-account database secret on a registered database
)

// The database strategies.
const (
	StrategySingle      = "single"      // the user changes its own password
	StrategyAlternating = "alternating" // two users; the standby one gets the new password and becomes current
)

// Spec is how a secret rotates: which rotator, its settings, and the
// schedule. It is kept as JSON in the secret's Rotation.Rotator.
type Spec struct {
	Rotator  string `json:"Rotator"`
	Strategy string `json:"Strategy,omitempty"`
	URL      string `json:"URL,omitempty"`    // webhook endpoint
	Lambda   string `json:"Lambda,omitempty"` // the RotationLambdaARN as an AWS client gave it, echoed back
	Schedule string `json:"Schedule,omitempty"`
	Duration string `json:"Duration,omitempty"`

	// Password is the policy of generated passwords (random and database
	// rotators); nil for the default (32 characters, no punctuation that
	// needs quoting in a connection string).
	Password *password.Options `json:"Password,omitempty"`
	// SSH is the key algorithm of the ssh rotator: "ed25519" (default) or "rsa".
	SSH     string `json:"SSH,omitempty"`
	SSHBits int    `json:"SSHBits,omitempty"`

	// Product secrets: the registered database, the two accounts that
	// alternate, the hosts they may log in from.
	Database string   `json:"Database,omitempty"`
	Accounts []string `json:"Accounts,omitempty"`
	Hosts    []string `json:"Hosts,omitempty"`

	// Rollout is the secret's roll-out in progress (secrets.StartRollout
	// keeps it here); kept as it is when the settings change.
	Rollout *secrets.Rollout `json:"Rollout,omitempty"`
}

// ParseSpec reads a secret's rotation spec; an empty one is the zero Spec.
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	if s == "" {
		return sp, nil
	}
	if err := json.Unmarshal([]byte(s), &sp); err != nil {
		return sp, fault.E("rotation.Spec", fault.Invalid, "the secret's rotation settings are not readable")
	}
	return sp, nil
}

// String returns the spec as stored.
func (sp Spec) String() string {
	if sp.Rotator == "" && sp.Schedule == "" && sp.Lambda == "" && sp.Rollout == nil {
		return ""
	}
	b, _ := json.Marshal(sp)
	return string(b)
}

// Check validates a spec's settings.
func (sp Spec) Check() error {
	const op = "rotation.Spec"
	switch sp.Rotator {
	case RotatorRandom, RotatorSSH, RotatorProduct:
	case RotatorPostgres, RotatorMySQL:
		if sp.Strategy != StrategySingle && sp.Strategy != StrategyAlternating {
			return fault.E(op, fault.Invalid, "a database rotator's strategy is single or alternating")
		}
	case RotatorWebhook:
		if err := checkURL(sp.URL); err != nil {
			return err
		}
	default:
		return fault.E(op, fault.Invalid, fmt.Sprintf("unknown rotator %q", sp.Rotator))
	}
	if sp.Schedule != "" {
		if _, err := schedule.Parse(sp.Schedule); err != nil {
			return fault.E(op, fault.Invalid, fault.Message(err))
		}
	}
	if sp.Duration != "" {
		if _, err := schedule.ParseDuration(sp.Duration); err != nil {
			return fault.E(op, fault.Invalid, fault.Message(err))
		}
	}
	if sp.Password != nil {
		if _, err := password.Generate(*sp.Password); err != nil {
			return fault.E(op, fault.Invalid, "password policy: "+fault.Message(err))
		}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fault.E("rotation.Spec", fault.Invalid, "a webhook rotator needs an https:// URL without credentials or fragment")
	}
	return nil
}

// FromLambda maps an AWS RotationLambdaARN onto a rotator: an https:// URL
// is a webhook; "coffer:NAME", or a Lambda ARN whose function is named
// "coffer-NAME", is a built-in rotator, NAME one of random, ssh,
// postgresql-single, postgresql-alternating, mysql-single,
// mysql-alternating.
func FromLambda(arn string) (Spec, error) {
	sp := Spec{Lambda: arn}
	if strings.HasPrefix(arn, "https://") || strings.HasPrefix(arn, "http://") {
		sp.Rotator, sp.URL = RotatorWebhook, arn
		return sp, checkURL(arn)
	}
	name, ok := strings.CutPrefix(arn, "coffer:")
	if !ok {
		if i := strings.Index(arn, ":function:coffer-"); strings.HasPrefix(arn, "arn:") && i > 0 {
			name, ok = arn[i+len(":function:coffer-"):], true
			name, _, _ = strings.Cut(name, ":") // a version or alias qualifier
		}
	}
	if !ok {
		return sp, fault.E("rotation.FromLambda", fault.Invalid, "RotationLambdaARN must be an https:// webhook URL or a Coffer rotator: coffer:random, coffer:ssh, coffer:postgresql-single, coffer:postgresql-alternating, coffer:mysql-single or coffer:mysql-alternating")
	}
	engine, strategy, _ := strings.Cut(name, "-")
	switch {
	case name == RotatorRandom || name == RotatorSSH:
		sp.Rotator = name
	case (engine == RotatorPostgres || engine == RotatorMySQL) && (strategy == StrategySingle || strategy == StrategyAlternating):
		sp.Rotator, sp.Strategy = engine, strategy
	default:
		return sp, fault.E("rotation.FromLambda", fault.Invalid, fmt.Sprintf("unknown Coffer rotator %q: use random, ssh, postgresql-single, postgresql-alternating, mysql-single or mysql-alternating", name))
	}
	return sp, nil
}

// FunctionOf names a spec's rotator as FromLambda reads it: the
// RotationLambdaARN a client gave, or the Coffer name of the rotator.
func FunctionOf(sp Spec) string {
	switch {
	case sp.Lambda != "":
		return sp.Lambda
	case sp.Rotator == RotatorWebhook:
		return sp.URL
	case sp.Strategy != "":
		return "coffer:" + sp.Rotator + "-" + sp.Strategy
	}
	return "coffer:" + sp.Rotator
}

// Rules is a rotation schedule as a caller sets it: every Days days, or
// an AWS ScheduleExpression, within an optional window Duration.
type Rules struct {
	Days     int
	Schedule string
	Duration string
	Begin    time.Time // Tencent's RotationBeginTime: the first rotation; zero for none
}

// scheduleOf returns the schedule a secret's rotation follows.
func scheduleOf(r store.Rotation, sp Spec) (schedule.Schedule, error) {
	if sp.Schedule != "" {
		return schedule.Parse(sp.Schedule)
	}
	days := r.Days
	if days <= 0 {
		days = 30
	}
	return schedule.Days(days)
}

// nextRotation returns when a secret rotated at last should rotate next.
func nextRotation(r store.Rotation, sp Spec, last, now time.Time) time.Time {
	sch, err := scheduleOf(r, sp)
	if err != nil {
		return time.Time{}
	}
	return sch.Next(last, now).UTC().Truncate(time.Millisecond)
}
