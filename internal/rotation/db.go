package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// DBValue is a database credential as AWS's rotation templates keep it:
// a JSON object with the engine, address, user and password, and for the
// alternating strategy the secret holding the admin credential
// (masterarn: a secret name or ARN in the same account and region).
type DBValue struct {
	Engine    string
	Host      string
	Port      int
	Username  string
	Password  string
	DBName    string
	MasterARN string
	TLS       string
}

// ParseDBValue reads a credential value. Keys match without regard to
// case; the port may be a number or a string.
func ParseDBValue(raw []byte) (DBValue, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return DBValue{}, errors.New("the secret's value is not a JSON object with engine, host, port, username and password")
	}
	get := func(keys ...string) string {
		for k, v := range m {
			for _, want := range keys {
				if strings.EqualFold(k, want) {
					switch x := v.(type) {
					case string:
						return x
					case float64:
						return strconv.FormatFloat(x, 'f', -1, 64)
					}
				}
			}
		}
		return ""
	}
	v := DBValue{
		Engine: get("engine"), Host: get("host"), Username: get("username", "UserName"),
		Password: get("password"), DBName: get("dbname", "database"), MasterARN: get("masterarn"), TLS: get("tls", "sslmode"),
	}
	if p := get("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return DBValue{}, errors.New("the secret's port is not a port number")
		}
		v.Port = n
	}
	if v.Host == "" || v.Username == "" {
		return DBValue{}, errors.New("the secret's value lacks host or username")
	}
	return v, nil
}

// engineOf maps an AWS engine name onto Coffer's.
func engineOf(engine, fallback string) (string, error) {
	switch strings.ToLower(engine) {
	case "postgres", "postgresql", "aurora-postgresql":
		return dbtarget.Postgres, nil
	case "mysql", "mariadb", "aurora-mysql", "aurora":
		return dbtarget.MySQL, nil
	case "":
		return fallback, nil
	}
	return "", fmt.Errorf("unsupported database engine %q", engine)
}

func (v DBValue) conn(rotatorEngine string) (dbtarget.Conn, error) {
	eng, err := engineOf(v.Engine, rotatorEngine)
	if err != nil {
		return dbtarget.Conn{}, err
	}
	port := v.Port
	if port == 0 {
		port = map[string]int{dbtarget.Postgres: 5432, dbtarget.MySQL: 3306}[eng]
	}
	return dbtarget.Conn{Engine: eng, Host: v.Host, Port: port, User: v.Username, Password: v.Password, Database: v.DBName, TLS: v.TLS}, nil
}

// dbRotator rotates a PostgreSQL or MySQL user whose credential is the
// secret's JSON value (AWS's layout), single-user or alternating.
type dbRotator struct{}

func (dbRotator) values(j *job) (cur, pend DBValue, err error) {
	if j.cur == nil {
		return cur, pend, errNoCurrent
	}
	if cur, err = ParseDBValue(j.curVal.Bytes()); err != nil {
		return cur, pend, err
	}
	if j.pend != nil {
		pend, err = ParseDBValue(j.pendVal.Bytes())
	}
	return cur, pend, err
}

// cloneSuffix names the second user of the alternating strategy, as AWS's
// templates do.
const cloneSuffix = "_clone"

func (dbRotator) create(_ context.Context, j *job) (secrets.Value, error) {
	cur, _, err := dbRotator{}.values(j)
	if err != nil {
		return secrets.Value{}, err
	}
	pw, err := j.newPassword()
	if err != nil {
		return secrets.Value{}, err
	}
	user := cur.Username
	if j.spec.Strategy == StrategyAlternating {
		if base, ok := strings.CutSuffix(user, cloneSuffix); ok {
			user = base
		} else {
			user += cloneSuffix
		}
	}
	v, ok := replaceJSON(j.curVal.Bytes(), map[string]string{"username": user, "password": pw})
	if !ok {
		return secrets.Value{}, errors.New("the secret's value lacks username or password")
	}
	return secrets.StringValue(v), nil
}

func (r dbRotator) set(ctx context.Context, j *job) error {
	cur, pend, err := r.values(j)
	if err != nil {
		return err
	}
	pc, err := pend.conn(j.spec.Rotator)
	if err != nil {
		return err
	}
	if j.spec.Strategy == StrategySingle {
		cc, _ := cur.conn(j.spec.Rotator)
		err := dbtarget.SetOwnPassword(ctx, cc, pend.Password)
		if errors.Is(err, dbtarget.ErrLogin) && dbtarget.TestLogin(ctx, pc) == nil {
			return nil // set before a crash: the new password is in force
		}
		return err
	}
	admin, err := j.svc.openAdmin(ctx, j, cur)
	if err != nil {
		return err
	}
	defer admin.Close()
	return admin.CloneUser(ctx, cur.Username, pend.Username, pend.Password, nil)
}

func (r dbRotator) test(ctx context.Context, j *job) error {
	_, pend, err := r.values(j)
	if err != nil {
		return err
	}
	pc, err := pend.conn(j.spec.Rotator)
	if err != nil {
		return err
	}
	return dbtarget.TestLogin(ctx, pc)
}

func (dbRotator) finish(context.Context, *job) error { return nil }

// undo puts the old password back for the single-user strategy; the
// alternating strategy changed only the standby user, which nobody uses.
func (r dbRotator) undo(ctx context.Context, j *job) error {
	if j.spec.Strategy != StrategySingle {
		return nil
	}
	cur, pend, err := r.values(j)
	if err != nil {
		return nil // nothing readable to undo with
	}
	pc, _ := pend.conn(j.spec.Rotator)
	if dbtarget.TestLogin(ctx, pc) != nil {
		return nil // the new password never took effect
	}
	return dbtarget.SetOwnPassword(ctx, pc, cur.Password)
}

// openAdmin opens an admin session for the alternating strategy from the
// secret named by masterarn.
func (s *Service) openAdmin(ctx context.Context, j *job, cur DBValue) (*dbtarget.Admin, error) {
	if cur.MasterARN == "" {
		return nil, errors.New("the alternating strategy needs masterarn in the secret's value: the secret holding the admin credential")
	}
	raw, err := s.readSecret(ctx, j.sec.Account, j.sec.Region, nameOfARN(cur.MasterARN))
	if err != nil {
		return nil, fmt.Errorf("read the admin secret: %w", err)
	}
	admin, err := ParseDBValue(raw)
	if err != nil {
		return nil, fmt.Errorf("the admin secret: %w", err)
	}
	if admin.Engine == "" {
		admin.Engine = cur.Engine
	}
	c, err := admin.conn(j.spec.Rotator)
	if err != nil {
		return nil, err
	}
	return dbtarget.Open(ctx, c)
}

// nameOfARN returns the secret name an AWS secret ARN names (without its
// six-character suffix); other strings as they are.
func nameOfARN(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	_, name, ok := strings.Cut(s, ":secret:")
	if !ok {
		return s
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 && len(name)-i == 7 {
		name = name[:i]
	}
	return name
}

// readSecret returns the current value of a secret in (account, region).
func (s *Service) readSecret(ctx context.Context, account, region, name string) ([]byte, error) {
	var out []byte
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sec, err := s.Secrets.LoadTx(ctx, tx, secrets.Scope{Account: account, Region: region}, name)
		if err != nil {
			return err
		}
		if sec.Status != store.StatusEnabled {
			return fault.E("rotation.readSecret", fault.WrongState, "secret "+name+" is "+string(sec.Status))
		}
		_, v, err := s.Secrets.ValueTx(ctx, tx, sec, secrets.Selector{Stage: secrets.StageCurrent})
		if err != nil {
			return err
		}
		out = v.Bytes()
		return nil
	})
	return out, err
}
