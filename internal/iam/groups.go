package iam

import (
	"context"
	"strconv"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// CreateGroup creates a group and returns it.
func (s *Service) CreateGroup(ctx context.Context, account, name, remark string) (*Group, error) {
	const op = "iam.CreateGroup"
	if err := checkName(op, "group", name, entityName); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{Account: account, ID: strconv.FormatInt(randomInt(100000, 999999999), 10), Name: name, Remark: remark, CreatedAt: now}
	err := s.write(ctx, func(tx store.Tx) error {
		if err := s.checkCount(ctx, tx, op, account, store.EntityGroup, MaxGroups, GroupFull); err != nil {
			return err
		}
		return nameInUse(op, tx.InsertEntity(ctx, g.entity(now)), "group", name, GroupNameInUse)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func groupByID(ctx context.Context, tx store.Tx, op, account, id string) (*Group, error) {
	e, err := tx.Entity(ctx, account, store.EntityGroup, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "group "+id+" does not exist").Because(GroupNotExist)
	} else if err != nil {
		return nil, err
	}
	return groupFrom(e)
}

// Group returns a group by id.
func (s *Service) Group(ctx context.Context, account, id string) (*Group, error) {
	var g *Group
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		g, err = groupByID(ctx, tx, "iam.Group", account, id)
		return err
	})
	return g, err
}

// Groups lists an account's groups, oldest first.
func (s *Service) Groups(ctx context.Context, account string) ([]*Group, error) {
	var out []*Group
	err := s.view(ctx, func(tx store.Tx) error {
		es, err := tx.Entities(ctx, account, store.EntityGroup)
		if err != nil {
			return err
		}
		for _, e := range es {
			g, err := groupFrom(e)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// UpdateGroup renames a group or changes its remark; nil leaves a field.
func (s *Service) UpdateGroup(ctx context.Context, account, id string, name, remark *string) error {
	const op = "iam.UpdateGroup"
	if name != nil {
		if err := checkName(op, "group", *name, entityName); err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx store.Tx) error {
		g, err := groupByID(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		if name != nil {
			g.Name = *name
		}
		if remark != nil {
			g.Remark = *remark
		}
		return nameInUse(op, tx.UpdateEntity(ctx, g.entity(s.now())), "group", g.Name, GroupNameInUse)
	})
}

// DeleteGroup removes a group with its memberships and attachments.
func (s *Service) DeleteGroup(ctx context.Context, account, id string) error {
	const op = "iam.DeleteGroup"
	return s.write(ctx, func(tx store.Tx) error {
		if _, err := groupByID(ctx, tx, op, account, id); err != nil {
			return err
		}
		return tx.DeleteEntity(ctx, account, store.EntityGroup, id)
	})
}

// Membership names a group and a user, the user by uin.
type Membership struct {
	GroupID string
	UserUin string
}

// AddToGroups adds users to groups, all or none. Adding twice is not an error.
func (s *Service) AddToGroups(ctx context.Context, account string, ms []Membership) error {
	const op = "iam.AddUserToGroup"
	return s.write(ctx, func(tx store.Tx) error {
		now := s.now()
		for _, m := range ms {
			if _, err := groupByID(ctx, tx, op, account, m.GroupID); err != nil {
				return err
			}
			if _, err := userByUin(ctx, tx, op, account, m.UserUin); err != nil {
				return err
			}
			members, err := tx.Members(ctx, account, m.GroupID)
			if err != nil {
				return err
			}
			groups, err := tx.GroupsOf(ctx, account, m.UserUin)
			if err != nil {
				return err
			}
			if already(groups, m.GroupID) {
				continue
			}
			if len(members) >= MaxGroupUsers {
				return fault.E(op, fault.Limit, "group "+m.GroupID+" holds 100 users, the limit").Because(GroupUserFull)
			}
			if len(groups) >= MaxUserGroups {
				return fault.E(op, fault.Limit, "user "+m.UserUin+" is in 10 groups, the limit").Because(UserGroupFull)
			}
			if err := tx.AddMember(ctx, &store.Membership{Account: account, GroupID: m.GroupID, UserID: m.UserUin, AddedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

func already(ms []*store.Membership, group string) bool {
	for _, m := range ms {
		if m.GroupID == group {
			return true
		}
	}
	return false
}

// RemoveFromGroups removes users from groups. Removing a user that is not a
// member is not an error; an unknown group or user is.
func (s *Service) RemoveFromGroups(ctx context.Context, account string, ms []Membership) error {
	const op = "iam.RemoveUserFromGroup"
	return s.write(ctx, func(tx store.Tx) error {
		for _, m := range ms {
			if _, err := groupByID(ctx, tx, op, account, m.GroupID); err != nil {
				return err
			}
			if _, err := userByUin(ctx, tx, op, account, m.UserUin); err != nil {
				return err
			}
			if err := tx.RemoveMember(ctx, account, m.GroupID, m.UserUin); err != nil && !fault.Is(err, fault.NotFound) {
				return err
			}
		}
		return nil
	})
}

// GroupMembers lists a group's users, in the order they joined.
func (s *Service) GroupMembers(ctx context.Context, account, id string) ([]*User, error) {
	const op = "iam.ListUsersForGroup"
	var out []*User
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := groupByID(ctx, tx, op, account, id); err != nil {
			return err
		}
		ms, err := tx.Members(ctx, account, id)
		if err != nil {
			return err
		}
		for _, m := range ms {
			u, err := userByUin(ctx, tx, op, account, m.UserID)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// UserGroups lists the groups a user (by uin) belongs to.
func (s *Service) UserGroups(ctx context.Context, account, uin string) ([]*Group, error) {
	const op = "iam.ListGroupsForUser"
	var out []*Group
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := userByUin(ctx, tx, op, account, uin); err != nil {
			return err
		}
		ms, err := tx.GroupsOf(ctx, account, uin)
		if err != nil {
			return err
		}
		for _, m := range ms {
			g, err := groupByID(ctx, tx, op, account, m.GroupID)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}
