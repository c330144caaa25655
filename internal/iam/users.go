package iam

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// AddUserInput creates a sub-user.
type AddUserInput struct {
	Name         string
	Remark       string
	ConsoleLogin bool
	// UseAPI creates an active access key at once and returns it.
	UseAPI bool
	// Password is the console password; with ConsoleLogin and no Password
	// one is generated and returned.
	Password          string
	NeedResetPassword bool
	PhoneNum          string
	CountryCode       string
	Email             string
	Tags              map[string]string
}

// AddUserOutput is a new user, with what is shown only once.
type AddUserOutput struct {
	User      *User
	Password  string // the generated or given password; "" when none
	AccessKey *NewKey
}

// AddUser creates a sub-user in account.
func (s *Service) AddUser(ctx context.Context, account string, in AddUserInput) (*AddUserOutput, error) {
	const op = "iam.AddUser"
	if err := checkName(op, "user", in.Name, userName); err != nil {
		return nil, err
	}
	if in.Password != "" {
		if err := checkPassword(op, in.Password); err != nil {
			return nil, err
		}
	} else if in.ConsoleLogin {
		in.Password = generatePassword()
	}
	now := s.now()
	u := &User{
		Account: account, Uin: NewAccountID(), Uid: uint64(randomInt(1000000, 9999999)), Name: in.Name, Remark: in.Remark,
		ConsoleLogin: in.ConsoleLogin, Email: in.Email, PhoneNum: in.PhoneNum, CountryCode: in.CountryCode,
		NeedResetPassword: in.NeedResetPassword, Tags: in.Tags, CreatedAt: now,
	}
	if in.Password != "" {
		u.PasswordHash = HashPassword(in.Password)
	}
	out := &AddUserOutput{User: u, Password: in.Password}
	err := s.write(ctx, func(tx store.Tx) error {
		if err := s.checkCount(ctx, tx, op, account, store.EntityUser, MaxUsers, SubUserFull); err != nil {
			return err
		}
		if err := tx.InsertEntity(ctx, u.entity(now)); err != nil {
			return nameInUse(op, err, "user", in.Name, UserNameInUse)
		}
		if in.UseAPI {
			k, err := s.newKey(ctx, tx, account, u.Uin, "", now)
			if err != nil {
				return err
			}
			out.AccessKey = k
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nameInUse(op string, err error, what, name string, r fault.Reason) error {
	if fault.Is(err, fault.Exists) {
		return fault.E(op, fault.Exists, fmt.Sprintf("a %s named %s already exists", what, name)).Because(r)
	}
	return err
}

func (s *Service) checkCount(ctx context.Context, tx store.Tx, op, account string, kind store.EntityKind, max int, r fault.Reason) error {
	es, err := tx.Entities(ctx, account, kind)
	if err != nil {
		return err
	}
	if len(es) >= max {
		return fault.E(op, fault.Limit, fmt.Sprintf("the account holds %d %ss, the limit", max, kind)).Because(r)
	}
	return nil
}

// User returns a sub-user by name.
func (s *Service) User(ctx context.Context, account, name string) (*User, error) {
	var u *User
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		u, err = userByName(ctx, tx, "iam.User", account, name)
		return err
	})
	return u, err
}

// UserByUin returns a sub-user by uin.
func (s *Service) UserByUin(ctx context.Context, account, uin string) (*User, error) {
	var u *User
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		u, err = userByUin(ctx, tx, "iam.UserByUin", account, uin)
		return err
	})
	return u, err
}

func userByName(ctx context.Context, tx store.Tx, op, account, name string) (*User, error) {
	e, err := tx.EntityByName(ctx, account, store.EntityUser, name)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "user "+name+" does not exist").Because(UserNotExist)
	} else if err != nil {
		return nil, err
	}
	return userFrom(e)
}

func userByUin(ctx context.Context, tx store.Tx, op, account, uin string) (*User, error) {
	e, err := tx.Entity(ctx, account, store.EntityUser, uin)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "user "+uin+" does not exist").Because(UserNotExist)
	} else if err != nil {
		return nil, err
	}
	return userFrom(e)
}

// Users lists an account's sub-users, oldest first.
func (s *Service) Users(ctx context.Context, account string) ([]*User, error) {
	var out []*User
	err := s.view(ctx, func(tx store.Tx) error {
		es, err := tx.Entities(ctx, account, store.EntityUser)
		if err != nil {
			return err
		}
		for _, e := range es {
			u, err := userFrom(e)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// UserPatch changes a user; nil fields stay as they are.
type UserPatch struct {
	Remark, Password, PhoneNum, CountryCode, Email *string
	ConsoleLogin, NeedResetPassword                *bool
	Tags                                           map[string]string // nil: unchanged
}

// UpdateUser changes a sub-user.
func (s *Service) UpdateUser(ctx context.Context, account, name string, p UserPatch) error {
	const op = "iam.UpdateUser"
	if p.Password != nil && *p.Password != "" {
		if err := checkPassword(op, *p.Password); err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx store.Tx) error {
		u, err := userByName(ctx, tx, op, account, name)
		if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&u.Remark, p.Remark)
		set(&u.PhoneNum, p.PhoneNum)
		set(&u.CountryCode, p.CountryCode)
		set(&u.Email, p.Email)
		if p.ConsoleLogin != nil {
			u.ConsoleLogin = *p.ConsoleLogin
		}
		if p.NeedResetPassword != nil {
			u.NeedResetPassword = *p.NeedResetPassword
		}
		if p.Password != nil {
			u.PasswordHash = ""
			if *p.Password != "" {
				u.PasswordHash = HashPassword(*p.Password)
			}
		}
		if p.Tags != nil {
			u.Tags = p.Tags
		}
		return tx.UpdateEntity(ctx, u.entity(s.now()))
	})
}

// DeleteUser removes a sub-user, its memberships and attachments. With
// keys left it fails with reason HaveKeys unless force is set, which
// deletes them too.
func (s *Service) DeleteUser(ctx context.Context, account, name string, force bool) error {
	const op = "iam.DeleteUser"
	return s.write(ctx, func(tx store.Tx) error {
		u, err := userByName(ctx, tx, op, account, name)
		if err != nil {
			return err
		}
		ks, err := tx.AccessKeys(ctx, account, u.Uin)
		if err != nil {
			return err
		}
		if len(ks) > 0 && !force {
			return fault.E(op, fault.WrongState, "user "+name+" still has access keys; delete them first or force").Because(HaveKeys)
		}
		return tx.DeleteEntity(ctx, account, store.EntityUser, u.Uin)
	})
}

// Authenticate checks a console user's password and returns the user's
// principal. It returns fault.Unauthenticated for an unknown user, a
// wrong password or a user without console login, alike.
func (s *Service) Authenticate(ctx context.Context, account, name, password string) (Principal, error) {
	const op = "iam.Authenticate"
	u, err := s.User(ctx, account, name)
	bad := fault.E(op, fault.Unauthenticated, "the user name or password is wrong")
	if fault.Is(err, fault.NotFound) {
		CheckPassword(dummyHash(), password) // spend the same time as a real check
		return Principal{}, bad
	} else if err != nil {
		return Principal{}, err
	}
	if !u.ConsoleLogin || u.PasswordHash == "" || !CheckPassword(u.PasswordHash, password) {
		return Principal{}, bad
	}
	return u.Principal(), nil
}

// dummyHash is computed on first use: argon2id costs 64 MiB and a quarter
// second, which every run of the binary would otherwise pay at start.
var dummyHash = sync.OnceValue(func() string { return HashPassword("not a real password, only spends time") })

// Principal returns the user as a caller.
func (u *User) Principal() Principal {
	return Principal{Account: u.Account, ID: u.Uin, Name: u.Name, Kind: KindUser, Tags: u.Tags}
}

// randomInt returns a uniform random integer in [lo, hi].
func randomInt(lo, hi int64) int64 {
	n := big.NewInt(hi - lo + 1)
	x, err := randReader(n)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return lo + x.Int64()
}

// write runs fn in a transaction and, when it commits, drops every cached
// credential and policy so the change applies to the next request.
func (s *Service) write(ctx context.Context, fn func(tx store.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	if err == nil {
		s.Changed()
	}
	return err
}

func (s *Service) view(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.View(ctx, fn)
}

var _ = time.Second
