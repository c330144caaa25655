package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Products are the database engines product secrets rotate on, spelled as
// the Tencent API spells them, with Coffer's engine names.
var Products = map[string]string{"Mysql": dbtarget.MySQL, "PostgreSQL": dbtarget.Postgres}

// ProductOf returns the product name of an engine.
func ProductOf(engine string) string {
	for p, e := range Products {
		if e == engine {
			return p
		}
	}
	return engine
}

// DatabaseInput registers a database instance.
type DatabaseInput struct {
	ID          string
	Engine      string // postgresql or mysql
	Host        string
	Port        int
	AdminSecret string // the secret holding the admin credential: {"UserName","Password"} or {"username","password"}
	Database    string // the database to connect to (PostgreSQL; default postgres)
	TLS         string // "", disable, require, verify-full
	Description string
	SkipCheck   bool // register without logging in first
}

type dbOptions struct {
	Database string `json:",omitempty"`
	TLS      string `json:",omitempty"`
}

// RegisterDatabase records a database instance that product secrets can
// rotate on, after checking the admin credential logs in (unless
// SkipCheck). It returns fault.Exists for a taken id.
func (s *Service) RegisterDatabase(ctx context.Context, sc secrets.Scope, in DatabaseInput) (*store.Database, error) {
	const op = "rotation.RegisterDatabase"
	if !validID(in.ID) {
		return nil, fault.E(op, fault.Invalid, "a database id is 1-64 characters of letters, digits, '-' and '_'")
	}
	if in.Engine != dbtarget.Postgres && in.Engine != dbtarget.MySQL {
		return nil, fault.E(op, fault.Invalid, "the engine is postgresql or mysql")
	}
	if in.Host == "" || strings.ContainsAny(in.Host, " /?#@") {
		return nil, fault.E(op, fault.Invalid, "the host is a name or an address")
	}
	if in.Port == 0 {
		in.Port = map[string]int{dbtarget.Postgres: 5432, dbtarget.MySQL: 3306}[in.Engine]
	}
	if in.Port < 1 || in.Port > 65535 {
		return nil, fault.E(op, fault.Invalid, "the port is 1-65535")
	}
	switch in.TLS {
	case "", "disable", "require", "verify-full":
	default:
		return nil, fault.E(op, fault.Invalid, "TLS is disable, require or verify-full")
	}
	if err := secrets.CheckName(op, in.AdminSecret); err != nil {
		return nil, err
	}
	opts, _ := json.Marshal(dbOptions{Database: in.Database, TLS: in.TLS})
	d := &store.Database{ID: in.ID, Account: sc.Account, Region: sc.Region, Engine: in.Engine, Host: in.Host, Port: in.Port,
		AdminSecret: in.AdminSecret, Options: string(opts), Description: in.Description}
	// The admin secret must exist whether or not the login is checked, and
	// a missing one is NotFound rather than a failed login.
	if err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := s.Secrets.LoadTx(ctx, tx, sc, in.AdminSecret)
		return err
	}); err != nil {
		return nil, err
	}
	if !in.SkipCheck {
		a, err := s.admin(ctx, d)
		if err != nil {
			return nil, fault.E(op, fault.Invalid, "cannot log in to the database as its admin: "+safeError(err))
		}
		a.Close()
	}
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		if _, err := s.Secrets.LoadTx(ctx, tx, sc, in.AdminSecret); err != nil {
			return err
		}
		d.CreatedAt = now
		err := tx.InsertDatabase(ctx, d)
		if fault.Is(err, fault.Exists) {
			return fault.E(op, fault.Exists, "database "+in.ID+" is already registered").Because(fault.DatabaseExists)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Databases lists the registered databases of a scope.
func (s *Service) Databases(ctx context.Context, sc secrets.Scope) ([]*store.Database, error) {
	var out []*store.Database
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.Databases(ctx, sc.Account, sc.Region)
		return err
	})
	return out, err
}

// DeregisterDatabase forgets a database. Product secrets on it can no
// longer rotate until it is registered again under the same id.
func (s *Service) DeregisterDatabase(ctx context.Context, sc secrets.Scope, id string) error {
	return s.Secrets.InTx(ctx, func(tx store.Tx, _ time.Time) error {
		err := tx.DeleteDatabase(ctx, sc.Account, sc.Region, id)
		if fault.Is(err, fault.NotFound) {
			return fault.E("rotation.DeregisterDatabase", fault.NotFound, "database "+id+" is not registered")
		}
		return err
	})
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// admin opens an admin session on a registered database.
func (s *Service) admin(ctx context.Context, d *store.Database) (*dbtarget.Admin, error) {
	raw, err := s.readSecret(ctx, d.Account, d.Region, d.AdminSecret)
	if err != nil {
		return nil, fmt.Errorf("read admin secret %s: %w", d.AdminSecret, err)
	}
	c, err := dbConn(d, raw)
	if err != nil {
		return nil, err
	}
	return dbtarget.Open(ctx, c)
}

// dbConn returns the connection to a registered database with the
// credential in raw ({"UserName","Password"}).
func dbConn(d *store.Database, raw []byte) (dbtarget.Conn, error) {
	var cred struct{ UserName, Username, Password string }
	if err := json.Unmarshal(raw, &cred); err != nil {
		return dbtarget.Conn{}, errors.New("the credential is not JSON with UserName and Password")
	}
	if cred.UserName == "" {
		cred.UserName = cred.Username
	}
	var o dbOptions
	_ = json.Unmarshal([]byte(d.Options), &o)
	return dbtarget.Conn{Engine: d.Engine, Host: d.Host, Port: d.Port, User: cred.UserName, Password: cred.Password, Database: o.Database, TLS: o.TLS}, nil
}

// ProductInput creates a product (database credential) secret.
type ProductInput struct {
	Name        string
	Description string
	KeyID       string
	Tags        []secrets.Tag
	CreatedBy   string
	Product     string // Mysql or PostgreSQL: the registered database's engine
	Database    string // the registered database's id (Tencent's InstanceID)
	Prefix      string // account name prefix: ≤ 8 of [A-Za-z0-9_], starting with a letter
	Hosts       []string
	Privileges  []dbtarget.Privilege
	Enable      bool
	Days        int
	Begin       time.Time
}

// ProductValue is the value of a product secret, as Tencent shows it.
type ProductValue struct {
	UserName string
	Password string
}

type productDetail struct {
	Privileges []dbtarget.Privilege `json:",omitempty"`
	Database   string               `json:",omitempty"`
	Accounts   []string             `json:",omitempty"`
	Hosts      []string             `json:",omitempty"`
}

// CreateProduct creates a product secret in state Creating and starts the
// run that creates its two database accounts; the run's id is the flow id
// DescribeAsyncRequestInfo reports on.
func (s *Service) CreateProduct(ctx context.Context, sc secrets.Scope, in ProductInput) (*secrets.Secret, *store.RotationRun, error) {
	const op = "rotation.CreateProduct"
	if !validPrefix(in.Prefix) {
		return nil, nil, fault.E(op, fault.Invalid, "UserNamePrefix is 1-8 characters of [A-Za-z0-9_] and starts with a letter")
	}
	engine, ok := Products[in.Product]
	if !ok {
		return nil, nil, fault.E(op, fault.NotFound, "unknown product "+in.Product+": Mysql or PostgreSQL").Because(fault.NoSuchProduct)
	}
	if err := dbtarget.ValidateHosts(engine, in.Hosts); err != nil {
		return nil, nil, fault.E(op, fault.Invalid, err.Error())
	}
	if err := dbtarget.ValidatePrivileges(engine, in.Privileges); err != nil {
		return nil, nil, fault.E(op, fault.Invalid, err.Error())
	}
	if in.Enable && (in.Days < 1 || in.Days > 365) {
		return nil, nil, fault.E(op, fault.Invalid, "RotationFrequency is 1-365 days")
	}
	accounts := []string{in.Prefix + "_SSM_" + secrets.NewID(3), in.Prefix + "_SSM_" + secrets.NewID(3)}
	for accounts[1] == accounts[0] {
		accounts[1] = in.Prefix + "_SSM_" + secrets.NewID(3)
	}
	spec := Spec{Rotator: RotatorProduct, Database: in.Database, Accounts: accounts, Hosts: in.Hosts}
	var sec *secrets.Secret
	var run *store.RotationRun
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		d, err := tx.Database(ctx, sc.Account, sc.Region, in.Database)
		if fault.Is(err, fault.NotFound) {
			return fault.E(op, fault.NotFound, "database instance "+in.Database+" is not registered").Because(fault.NoSuchProduct)
		} else if err != nil {
			return err
		}
		if d.Engine != engine {
			return fault.E(op, fault.Invalid, "database instance "+in.Database+" is "+ProductOf(d.Engine)+", not "+in.Product)
		}
		rot := store.Rotation{Enabled: in.Enable, Days: in.Days, Begin: in.Begin, Rotator: spec.String()}
		if in.Enable {
			rot.Next = firstRotation(in.Begin, in.Days, now)
		}
		sec, _, err = s.Secrets.CreateTx(ctx, tx, sc, secrets.CreateInput{
			Name: in.Name, Description: in.Description, Type: store.TypeDatabase, KeyID: in.KeyID, Tags: in.Tags,
			Product: in.Product, ResourceID: in.Database, Status: store.StatusCreating, CreatedBy: in.CreatedBy,
		}, now)
		if err != nil {
			return err
		}
		sec.Rotation = rot
		if err := s.Secrets.SaveTx(ctx, tx, sec, now); err != nil {
			return err
		}
		detail, _ := json.Marshal(productDetail{Privileges: in.Privileges})
		run = newRun(sec, KindCreate, StepCreate, s.versionFor(sec, spec, "", now), RotatorProduct, now)
		run.Detail = string(detail)
		if err := tx.InsertRotationRun(ctx, run); err != nil {
			return fmt.Errorf("start creation: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.started()
	return sec, run, nil
}

// firstRotation is when a schedule that begins at begin first rotates: at
// begin when it is still ahead, else a period from now.
func firstRotation(begin time.Time, days int, now time.Time) time.Time {
	if begin.After(now) {
		return begin
	}
	return now.AddDate(0, 0, days)
}

func validPrefix(p string) bool {
	if p == "" || len(p) > 8 || !(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z') {
		return false
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// productRotator alternates a product secret between its two accounts.
type productRotator struct{}

func (productRotator) database(ctx context.Context, j *job) (*store.Database, error) {
	var d *store.Database
	err := j.svc.Store.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = tx.Database(ctx, j.sec.Account, j.sec.Region, j.spec.Database)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("database instance %s: %w", j.spec.Database, err)
	}
	return d, nil
}

func (p productRotator) create(ctx context.Context, j *job) (secrets.Value, error) {
	if len(j.spec.Accounts) != 2 {
		return secrets.Value{}, errors.New("the secret does not name its two accounts")
	}
	pw, err := j.newPassword()
	if err != nil {
		return secrets.Value{}, err
	}
	user := j.spec.Accounts[0]
	if j.run.Kind == KindCreate {
		if err := p.createAccounts(ctx, j, pw); err != nil {
			return secrets.Value{}, err
		}
	} else {
		if j.cur == nil {
			return secrets.Value{}, errNoCurrent
		}
		var cur ProductValue
		if err := json.Unmarshal(j.curVal.Bytes(), &cur); err != nil {
			return secrets.Value{}, errors.New("the current value is not {UserName, Password}")
		}
		if cur.UserName == j.spec.Accounts[0] {
			user = j.spec.Accounts[1]
		}
	}
	b, _ := json.Marshal(ProductValue{UserName: user, Password: pw})
	return secrets.StringValue(string(b)), nil
}

// createAccounts creates both accounts; the first gets pw, the standby a
// password nobody knows (the first rotation sets it). An account left by
// an earlier attempt gets the password instead.
func (p productRotator) createAccounts(ctx context.Context, j *job, pw string) error {
	var d productDetail
	_ = json.Unmarshal([]byte(j.run.Detail), &d)
	db, err := p.database(ctx, j)
	if err != nil {
		return err
	}
	a, err := j.svc.admin(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	for i, name := range j.spec.Accounts {
		apw := pw
		if i == 1 {
			if apw, err = j.newPassword(); err != nil {
				return err
			}
		}
		err := a.CreateUser(ctx, name, apw, j.spec.Hosts, d.Privileges)
		if errors.Is(err, dbtarget.ErrExists) {
			err = a.SetPassword(ctx, name, apw, j.spec.Hosts)
		}
		if err != nil {
			return fmt.Errorf("create account %s: %w", name, err)
		}
	}
	return nil
}

func (p productRotator) pending(j *job) (ProductValue, error) {
	var v ProductValue
	if err := json.Unmarshal(j.pendVal.Bytes(), &v); err != nil || !slices.Contains(j.spec.Accounts, v.UserName) {
		return v, errors.New("the pending value is not {UserName, Password} of one of the secret's accounts")
	}
	return v, nil
}

func (p productRotator) set(ctx context.Context, j *job) error {
	if j.run.Kind == KindCreate {
		return nil // createSecret made the accounts
	}
	v, err := p.pending(j)
	if err != nil {
		return err
	}
	db, err := p.database(ctx, j)
	if err != nil {
		return err
	}
	a, err := j.svc.admin(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.SetPassword(ctx, v.UserName, v.Password, j.spec.Hosts)
}

func (p productRotator) test(ctx context.Context, j *job) error {
	v, err := p.pending(j)
	if err != nil {
		return err
	}
	db, err := p.database(ctx, j)
	if err != nil {
		return err
	}
	c, err := dbConn(db, mustJSON(v))
	if err != nil {
		return err
	}
	return dbtarget.TestLogin(ctx, c)
}

func (productRotator) finish(context.Context, *job) error { return nil }

// undo drops the accounts of a product secret whose creation failed; a
// failed rotation changed only the standby account, which nobody uses.
func (p productRotator) undo(ctx context.Context, j *job) error {
	if j.run.Kind != KindCreate {
		return nil
	}
	return p.drop(ctx, j.svc, j.sec.Account, j.sec.Region, j.spec.Database, j.spec.Accounts, j.spec.Hosts)
}

func (productRotator) drop(ctx context.Context, s *Service, account, region, database string, accounts, hosts []string) error {
	var db *store.Database
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		db, err = tx.Database(ctx, account, region, database)
		return err
	})
	if err != nil {
		return fmt.Errorf("database instance %s: %w", database, err)
	}
	a, err := s.admin(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	for _, name := range accounts {
		if err := a.DropUser(ctx, name, hosts); err != nil {
			return fmt.Errorf("drop account %s: %w", name, err)
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// DropAccounts starts the run that drops a deleted product secret's
// database accounts (Tencent's DeleteMode 1): at once when the secret was
// purged, or when its deletion window ends; a secret restored before then
// keeps its accounts.
func (s *Service) DropAccounts(ctx context.Context, sec *secrets.Secret) (*store.RotationRun, error) {
	sp, err := ParseSpec(sec.Rotation.Rotator)
	if err != nil || sp.Rotator != RotatorProduct {
		return nil, fault.E("rotation.DropAccounts", fault.Invalid, "only product secrets have database accounts to drop")
	}
	var run *store.RotationRun
	err = s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		detail, _ := json.Marshal(productDetail{Database: sp.Database, Accounts: sp.Accounts, Hosts: sp.Hosts})
		run = newRun(sec, KindDrop, StepDrop, "", RotatorProduct, now)
		run.Detail = string(detail)
		if sec.Status == store.StatusPendingDelete && sec.DeleteAt.After(now) {
			run.NextAt = sec.DeleteAt
		}
		if err := tx.InsertRotationRun(ctx, run); err != nil {
			return fmt.Errorf("start dropping accounts: %w", err)
		}
		return s.record(ctx, tx, run, sec.Name, "StartDropAccounts", "")
	})
	if err != nil {
		return nil, err
	}
	s.started()
	return run, nil
}

func (s *Service) stepDrop(ctx context.Context, r *store.RotationRun) (*store.RotationRun, error) {
	var d productDetail
	_ = json.Unmarshal([]byte(r.Detail), &d)
	var restored bool
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sec, err := tx.SecretByID(ctx, r.SecretID)
		if err == nil {
			restored = sec.Status != store.StatusPendingDelete
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if restored {
		return s.end(ctx, r, nil, store.RunFailed, "the secret was restored; its accounts stay")
	}
	if err := s.hook(r, "before"); err != nil {
		return nil, err
	}
	if err := (productRotator{}).drop(ctx, s, r.Account, r.Region, d.Database, d.Accounts, d.Hosts); err != nil {
		if r.Attempts+1 >= s.maxAttempts() {
			return s.end(ctx, r, nil, store.RunFailed, StepDrop+": "+safeError(err))
		}
		r.Attempts++
		r.Error = StepDrop + ": " + safeError(err)
		r.NextAt = s.now().Add(s.backoff(r.Attempts))
		return r, s.save(ctx, r)
	}
	return s.end(ctx, r, nil, store.RunSucceeded, "")
}
