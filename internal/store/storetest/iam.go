package storetest

import (
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// IAM fixtures: numeric ids of one length, so "ties by id" means one order
// whether a backend compares them as text or as numbers.
const (
	userA  = "100001"
	userB  = "100002"
	groupA = "200001"
	groupB = "200002"
	roleA  = "300001"
	polA   = "400001"
	polB   = "400002"
	polC   = "400003"
)

// newEntity returns an entity of acctA with every field set.
func newEntity(kind store.EntityKind, id, name string) *store.Entity {
	return &store.Entity{Account: acctA, Kind: kind, ID: id, Name: name,
		Attrs:     []byte(`{"remark":"` + name + `", "tags":[{"k":"v"}]}`),
		CreatedAt: at(0), UpdatedAt: at(1), Revision: 3}
}

// newPolicy returns a policy of acctA with every field set.
func newPolicy(id, name string) *store.Policy {
	return &store.Policy{Account: acctA, ID: id, Name: name, Description: "policy " + name,
		DefaultVersion: 2, NextVersion: 4,
		Tags:      []store.Tag{{Key: "team", Value: "pay"}, {Key: "env", Value: "prod"}, {Key: "a", Value: ""}},
		CreatedAt: at(0), UpdatedAt: at(1), Revision: 5}
}

func normEntity(e *store.Entity) store.Entity {
	c := *e
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return c
}

func normPolicy(p *store.Policy) store.Policy {
	c := *p
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	return c
}

func normPolicyVersion(v *store.PolicyVersion) store.PolicyVersion {
	c := *v
	c.CreatedAt = ms(c.CreatedAt)
	return c
}

func normAttachment(a *store.Attachment) store.Attachment {
	c := *a
	c.AttachedAt = ms(c.AttachedAt)
	return c
}

func normMembership(m *store.Membership) store.Membership {
	c := *m
	c.AddedAt = ms(c.AddedAt)
	return c
}

// wantList fails the test unless got and want hold the same records in the
// same order, compared through norm.
func wantList[T any](t tb, what string, got, want []*T, norm func(*T) T) {
	t.Helper()
	g, w := []T{}, []T{}
	for _, x := range got {
		g = append(g, norm(x))
	}
	for _, x := range want {
		w = append(w, norm(x))
	}
	wantEqual(t, what, g, w)
}

// mustWrite runs each write in one Update transaction.
func mustWrite(t tb, s store.Store, writes ...func(tx store.Tx) error) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertEntity(e *store.Entity) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.InsertEntity(context.Background(), e) }
}

func insertPolicy(p *store.Policy) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.InsertPolicy(context.Background(), p) }
}

func insertPolicyVersion(v *store.PolicyVersion) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.InsertPolicyVersion(context.Background(), v) }
}

func attach(a *store.Attachment) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.Attach(context.Background(), a) }
}

func addMember(m *store.Membership) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.AddMember(context.Background(), m) }
}

// wantWriteKind runs one write in its own Update and checks its error kind.
func wantWriteKind(t tb, s store.Store, what string, want fault.Kind, write func(tx store.Tx) error) {
	t.Helper()
	wantKind(t, what, s.Update(context.Background(), write), want)
}

func testEntityRoundTrip(t *testing.T, s store.Store) {
	user := newEntity(store.EntityUser, userA, "alice")
	role := newEntity(store.EntityRole, roleA, "deployer")
	bare := &store.Entity{Account: acctA, Kind: store.EntityGroup, ID: groupA, Name: "ops"}
	mustWrite(t, s, insertEntity(user), insertEntity(role), insertEntity(bare))
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.Entity{user, role} {
			got, err := tx.Entity(t.Context(), acctA, want.Kind, want.ID)
			wantOK(t, "Entity", err)
			wantEqual(t, "Entity", normEntity(got), normEntity(want))
			got, err = tx.EntityByName(t.Context(), acctA, want.Kind, want.Name)
			wantOK(t, "EntityByName", err)
			wantEqual(t, "EntityByName", normEntity(got), normEntity(want))
		}
		got, err := tx.Entity(t.Context(), acctA, store.EntityGroup, groupA)
		wantOK(t, "Entity bare", err)
		wantEqual(t, "Entity bare (nil Attrs stored as {})", normEntity(got),
			store.Entity{Account: acctA, Kind: store.EntityGroup, ID: groupA, Name: "ops", Attrs: []byte("{}")})
		return nil
	})
}

func testEntityExists(t *testing.T, s store.Store) {
	mustWrite(t, s, insertEntity(newEntity(store.EntityUser, userA, "alice")))
	otherAccount := newEntity(store.EntityUser, userA, "alice")
	otherAccount.Account = acctB
	tests := []struct {
		name   string
		e      *store.Entity
		exists bool
	}{
		{"same id", newEntity(store.EntityUser, userA, "bob"), true},
		{"same name", newEntity(store.EntityUser, userB, "alice"), true},
		{"name differs in case", newEntity(store.EntityUser, userB, "Alice"), false},
		{"same id and name, another kind", newEntity(store.EntityGroup, userA, "alice"), false},
		{"same id and name, another account", otherAccount, false},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), insertEntity(tt.e))
		if tt.exists {
			wantKind(t, tt.name, err, fault.Exists)
		} else {
			wantOK(t, tt.name, err)
		}
	}
}

func testEntityUpdate(t *testing.T, s store.Store) {
	e := newEntity(store.EntityUser, userA, "alice")
	mustWrite(t, s, insertEntity(e), insertEntity(newEntity(store.EntityUser, userB, "bob")),
		insertEntity(newEntity(store.EntityGroup, groupA, "admins")))
	stale := *e
	e.Name, e.Attrs, e.UpdatedAt = "admins", []byte(`{"remark":"renamed"}`), at(60)
	changed := *e
	e.CreatedAt = at(-60) // not stored: UpdateEntity keeps CreatedAt
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateEntity(t.Context(), e) })
	wantEqual(t, "Revision", e.Revision, int64(4))
	changed.Revision = 4
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.EntityByName(t.Context(), acctA, store.EntityUser, "admins")
		wantOK(t, "EntityByName new name", err)
		wantEqual(t, "after update", normEntity(got), normEntity(&changed))
		_, err = tx.EntityByName(t.Context(), acctA, store.EntityUser, "alice")
		wantKind(t, "EntityByName old name", err, fault.NotFound)
		return nil
	})

	wantWriteKind(t, s, "UpdateEntity stale", fault.Conflict,
		func(tx store.Tx) error { return tx.UpdateEntity(t.Context(), &stale) })
	missing := newEntity(store.EntityUser, "199999", "nobody")
	wantWriteKind(t, s, "UpdateEntity missing", fault.NotFound,
		func(tx store.Tx) error { return tx.UpdateEntity(t.Context(), missing) })
	e.Name = "bob"
	wantWriteKind(t, s, "UpdateEntity to a taken name", fault.Exists,
		func(tx store.Tx) error { return tx.UpdateEntity(t.Context(), e) })
	wantEqual(t, "Revision after failed update", e.Revision, int64(4))
}

func testEntityList(t *testing.T, s store.Store) {
	// Inserted out of order; u2 and u3 tie on CreatedAt.
	u1, u2, u3 := newEntity(store.EntityUser, "100003", "c"), newEntity(store.EntityUser, "100002", "b"),
		newEntity(store.EntityUser, "100001", "a")
	u1.CreatedAt, u2.CreatedAt, u3.CreatedAt = at(1), at(2), at(2)
	group := newEntity(store.EntityGroup, groupA, "g")
	elsewhere := newEntity(store.EntityUser, "100004", "d")
	elsewhere.Account = acctB
	mustWrite(t, s, insertEntity(u2), insertEntity(group), insertEntity(u1), insertEntity(elsewhere),
		insertEntity(u3))
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Entities(t.Context(), acctA, store.EntityUser)
		wantOK(t, "Entities", err)
		wantList(t, "Entities users", got, []*store.Entity{u1, u3, u2}, normEntity)
		got, err = tx.Entities(t.Context(), acctA, store.EntityRole)
		wantOK(t, "Entities", err)
		wantList(t, "Entities roles", got, nil, normEntity)
		return nil
	})
}

func testPolicyRoundTrip(t *testing.T, s store.Store) {
	full := newPolicy(polA, "ReadSecrets")
	bare := &store.Policy{Account: acctA, ID: polB, Name: "Empty"}
	mustWrite(t, s, insertPolicy(full), insertPolicy(bare))
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.Policy{full, bare} {
			got, err := tx.Policy(t.Context(), acctA, want.ID)
			wantOK(t, "Policy", err)
			wantEqual(t, "Policy", normPolicy(got), normPolicy(want))
			got, err = tx.PolicyByName(t.Context(), acctA, want.Name)
			wantOK(t, "PolicyByName", err)
			wantEqual(t, "PolicyByName", normPolicy(got), normPolicy(want))
		}
		_, err := tx.PolicyByName(t.Context(), acctA, "readsecrets")
		wantKind(t, "PolicyByName in another case", err, fault.NotFound)
		return nil
	})
}

func testPolicyExists(t *testing.T, s store.Store) {
	mustWrite(t, s, insertPolicy(newPolicy(polA, "ReadSecrets")))
	otherAccount := newPolicy(polC, "ReadSecrets")
	otherAccount.Account = acctB
	tests := []struct {
		name   string
		p      *store.Policy
		exists bool
	}{
		{"same id", newPolicy(polA, "Other"), true},
		{"same name", newPolicy(polB, "ReadSecrets"), true},
		{"same name, another account", otherAccount, false},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), insertPolicy(tt.p))
		if tt.exists {
			wantKind(t, tt.name, err, fault.Exists)
		} else {
			wantOK(t, tt.name, err)
		}
	}
}

func testPolicyUpdate(t *testing.T, s store.Store) {
	p := newPolicy(polA, "ReadSecrets")
	mustWrite(t, s, insertPolicy(p), insertPolicy(newPolicy(polB, "Taken")))
	stale := *p
	p.Name, p.Description, p.DefaultVersion, p.NextVersion = "ReadAll", "changed", 3, 7
	p.Tags, p.UpdatedAt = []store.Tag{{Key: "env", Value: "dev"}}, at(60)
	changed := *p
	p.CreatedAt = at(-60) // not stored: UpdatePolicy keeps CreatedAt
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(t.Context(), p) })
	wantEqual(t, "Revision", p.Revision, int64(6))
	changed.Revision = 6
	wantPolicy(t, s, "after update", &changed)

	wantWriteKind(t, s, "UpdatePolicy stale", fault.Conflict,
		func(tx store.Tx) error { return tx.UpdatePolicy(t.Context(), &stale) })
	missing := newPolicy("499999", "Nope")
	wantWriteKind(t, s, "UpdatePolicy missing", fault.NotFound,
		func(tx store.Tx) error { return tx.UpdatePolicy(t.Context(), missing) })
	failed := *p
	failed.Name, failed.Tags = "Taken", []store.Tag{{Key: "lost", Value: "x"}}
	wantWriteKind(t, s, "UpdatePolicy to a taken name", fault.Exists,
		func(tx store.Tx) error { return tx.UpdatePolicy(t.Context(), &failed) })
	wantEqual(t, "Revision after failed update", failed.Revision, int64(6))
	wantPolicy(t, s, "after failed update", &changed)

	// Every tag removed reads back as none.
	p.Tags = nil
	changed.Tags, changed.Revision = nil, 7
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(t.Context(), p) })
	wantPolicy(t, s, "after removing tags", &changed)
}

// wantPolicy reads want's policy by id and compares it with want.
func wantPolicy(t tb, s store.Store, what string, want *store.Policy) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Policy(context.Background(), want.Account, want.ID)
		wantOK(t, what, err)
		wantEqual(t, what, normPolicy(got), normPolicy(want))
		return nil
	})
}

func testPolicyList(t *testing.T, s store.Store) {
	p1, p2, p3 := newPolicy(polC, "c"), newPolicy(polB, "b"), newPolicy(polA, "a")
	p1.CreatedAt, p2.CreatedAt, p3.CreatedAt = at(1), at(2), at(2)
	elsewhere := newPolicy("400004", "d")
	elsewhere.Account = acctB
	mustWrite(t, s, insertPolicy(p2), insertPolicy(elsewhere), insertPolicy(p1), insertPolicy(p3))
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Policies(t.Context(), acctA)
		wantOK(t, "Policies", err)
		wantList(t, "Policies", got, []*store.Policy{p1, p3, p2}, normPolicy)
		got, err = tx.Policies(t.Context(), "100000000009")
		wantOK(t, "Policies", err)
		wantList(t, "Policies of an empty account", got, nil, normPolicy)
		return nil
	})
}

func newPolicyVersion(policyID string, version int64, minute int) *store.PolicyVersion {
	return &store.PolicyVersion{PolicyID: policyID, Version: version, CreatedAt: at(minute),
		Document: "{\n  \"Version\": \"2.0\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Resource\": \"*\"}]\n}\t"}
}

func testPolicyVersions(t *testing.T, s store.Store) {
	// Numbers are the caller's, gaps and all, inserted in any order.
	v5, v1, v2 := newPolicyVersion(polA, 5, 5), newPolicyVersion(polA, 1, 1), newPolicyVersion(polA, 2, 2)
	v1.Document = `{"Version":"2.0","Statement":[]}`
	other := newPolicyVersion(polB, 1, 0)
	mustWrite(t, s, insertPolicy(newPolicy(polA, "a")), insertPolicy(newPolicy(polB, "b")),
		insertPolicyVersion(v5), insertPolicyVersion(v1), insertPolicyVersion(other), insertPolicyVersion(v2))
	wantPolicyVersions(t, s, polA, v1, v2, v5)
	wantPolicyVersions(t, s, polB, other)

	wantWriteKind(t, s, "InsertPolicyVersion taken number", fault.Exists,
		insertPolicyVersion(newPolicyVersion(polA, 2, 9)))
	wantWriteKind(t, s, "InsertPolicyVersion of a missing policy", fault.NotFound,
		insertPolicyVersion(newPolicyVersion("499999", 1, 9)))

	put := *v2
	put.Document, put.CreatedAt = `{"Version":"2.0"}`, at(99) // PutPolicyVersion keeps CreatedAt
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutPolicyVersion(t.Context(), &put) })
	v2.Document = put.Document
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.PolicyVersion(t.Context(), polA, 2)
		wantOK(t, "PolicyVersion", err)
		wantEqual(t, "PolicyVersion after Put", normPolicyVersion(got), normPolicyVersion(v2))
		_, err = tx.PolicyVersion(t.Context(), polA, 3)
		wantKind(t, "PolicyVersion missing", err, fault.NotFound)
		return nil
	})
	wantWriteKind(t, s, "PutPolicyVersion missing", fault.NotFound,
		func(tx store.Tx) error { return tx.PutPolicyVersion(t.Context(), newPolicyVersion(polA, 3, 0)) })

	deleteV5 := func(tx store.Tx) error { return tx.DeletePolicyVersion(t.Context(), polA, 5) }
	mustWrite(t, s, deleteV5)
	wantPolicyVersions(t, s, polA, v1, v2)
	wantWriteKind(t, s, "DeletePolicyVersion again", fault.NotFound, deleteV5)
}

// wantPolicyVersions checks a policy's versions, in order.
func wantPolicyVersions(t tb, s store.Store, policyID string, want ...*store.PolicyVersion) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.PolicyVersions(context.Background(), policyID)
		wantOK(t, "PolicyVersions", err)
		wantList(t, "PolicyVersions of "+policyID, got, want, normPolicyVersion)
		for _, v := range want {
			one, err := tx.PolicyVersion(context.Background(), policyID, v.Version)
			wantOK(t, "PolicyVersion", err)
			wantEqual(t, "PolicyVersion", normPolicyVersion(one), normPolicyVersion(v))
		}
		return nil
	})
}

func testPolicyDelete(t *testing.T, s store.Store) {
	user := newEntity(store.EntityUser, userA, "alice")
	keep := &store.Attachment{Account: acctA, PolicyID: polB, Kind: store.EntityUser, EntityID: userA, AttachedAt: at(1)}
	keepVersion := newPolicyVersion(polB, 1, 0)
	mustWrite(t, s, insertEntity(user), insertPolicy(newPolicy(polA, "a")), insertPolicy(newPolicy(polB, "b")),
		insertPolicyVersion(newPolicyVersion(polA, 1, 0)), insertPolicyVersion(keepVersion),
		attach(&store.Attachment{Account: acctA, PolicyID: polA, Kind: store.EntityUser, EntityID: userA}),
		attach(keep))
	deleteA := func(tx store.Tx) error { return tx.DeletePolicy(t.Context(), acctA, polA) }
	mustWrite(t, s, deleteA)
	wantWriteKind(t, s, "DeletePolicy again", fault.NotFound, deleteA)
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Policy(t.Context(), acctA, polA)
		wantKind(t, "Policy deleted", err, fault.NotFound)
		got, err := tx.AttachedTo(t.Context(), acctA, store.EntityUser, userA)
		wantOK(t, "AttachedTo", err)
		wantList(t, "AttachedTo after DeletePolicy", got, []*store.Attachment{keep}, normAttachment)
		got, err = tx.AttachmentsOf(t.Context(), acctA, polA)
		wantOK(t, "AttachmentsOf", err)
		wantList(t, "AttachmentsOf deleted policy", got, nil, normAttachment)
		return nil
	})
	wantPolicyVersions(t, s, polA)
	wantPolicyVersions(t, s, polB, keepVersion)

	// The id is free again, with no versions left over.
	mustWrite(t, s, insertPolicy(newPolicy(polA, "a")))
	wantPolicyVersions(t, s, polA)
}

func testAttachments(t *testing.T, s store.Store) {
	mustWrite(t, s, insertEntity(newEntity(store.EntityUser, userA, "alice")),
		insertEntity(newEntity(store.EntityUser, userB, "bob")),
		insertEntity(newEntity(store.EntityGroup, groupA, "ops")),
		insertEntity(newEntity(store.EntityRole, roleA, "deployer")),
		insertPolicy(newPolicy(polA, "a")), insertPolicy(newPolicy(polB, "b")), insertPolicy(newPolicy(polC, "c")))
	att := func(policyID string, kind store.EntityKind, entityID string, minute int) *store.Attachment {
		return &store.Attachment{Account: acctA, PolicyID: policyID, Kind: kind, EntityID: entityID, AttachedAt: at(minute)}
	}
	// Of userA: polC first (older), then polA and polB tied on time, by id.
	// Of polA: userB first (older), then the tie by kind, then entity id.
	aC, aA, aB := att(polC, store.EntityUser, userA, 1), att(polA, store.EntityUser, userA, 2), att(polB, store.EntityUser, userA, 2)
	bA, gA, rA := att(polA, store.EntityUser, userB, 1), att(polA, store.EntityGroup, groupA, 2), att(polA, store.EntityRole, roleA, 2)
	mustWrite(t, s, attach(aA), attach(rA), attach(aB), attach(gA), attach(aC), attach(bA))
	// Attaching again keeps the first time.
	mustWrite(t, s, attach(att(polA, store.EntityUser, userA, 50)))
	wantAttached(t, s, store.EntityUser, userA, aC, aA, aB)
	wantAttachmentsOf(t, s, polA, bA, gA, rA, aA)

	detach := func(tx store.Tx) error { return tx.Detach(t.Context(), acctA, polA, store.EntityUser, userA) }
	mustWrite(t, s, detach)
	wantWriteKind(t, s, "Detach again", fault.NotFound, detach)
	wantAttached(t, s, store.EntityUser, userA, aC, aB)
	wantAttachmentsOf(t, s, polA, bA, gA, rA)

	tests := []struct {
		name string
		a    *store.Attachment
	}{
		{"missing user", att(polA, store.EntityUser, "199999", 0)},
		{"group id as a user", att(polA, store.EntityUser, groupA, 0)},
	}
	for _, tt := range tests {
		wantWriteKind(t, s, "Attach "+tt.name, fault.NotFound, attach(tt.a))
	}

	// A policy need not be stored: presets live in code, not in the store.
	preset := att("1", store.EntityUser, userB, 3)
	mustWrite(t, s, attach(preset))
	wantAttached(t, s, store.EntityUser, userB, bA, preset)
	wantAttachmentsOf(t, s, "1", preset)
}

// wantAttached checks the attachments of an entity of acctA, in order.
func wantAttached(t tb, s store.Store, kind store.EntityKind, id string, want ...*store.Attachment) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.AttachedTo(context.Background(), acctA, kind, id)
		wantOK(t, "AttachedTo", err)
		wantList(t, "AttachedTo "+string(kind)+" "+id, got, want, normAttachment)
		return nil
	})
}

// wantAttachmentsOf checks the attachments of a policy of acctA, in order.
func wantAttachmentsOf(t tb, s store.Store, policyID string, want ...*store.Attachment) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.AttachmentsOf(context.Background(), acctA, policyID)
		wantOK(t, "AttachmentsOf", err)
		wantList(t, "AttachmentsOf "+policyID, got, want, normAttachment)
		return nil
	})
}

func testMemberships(t *testing.T, s store.Store) {
	mustWrite(t, s, insertEntity(newEntity(store.EntityUser, userA, "alice")),
		insertEntity(newEntity(store.EntityUser, userB, "bob")),
		insertEntity(newEntity(store.EntityGroup, groupA, "ops")),
		insertEntity(newEntity(store.EntityGroup, groupB, "dev")))
	member := func(groupID, userID string, minute int) *store.Membership {
		return &store.Membership{Account: acctA, GroupID: groupID, UserID: userID, AddedAt: at(minute)}
	}
	// Of groupA: userB (older) then userA; of userA: groupB, groupA tied, by id.
	aA, bA, aB := member(groupA, userA, 2), member(groupA, userB, 1), member(groupB, userA, 2)
	mustWrite(t, s, addMember(aB), addMember(aA), addMember(bA))
	// Adding again keeps the first time.
	mustWrite(t, s, addMember(member(groupA, userA, 50)))
	wantMembers(t, s, groupA, bA, aA)
	wantGroupsOf(t, s, userA, aA, aB)

	remove := func(tx store.Tx) error { return tx.RemoveMember(t.Context(), acctA, groupA, userA) }
	mustWrite(t, s, remove)
	wantWriteKind(t, s, "RemoveMember again", fault.NotFound, remove)
	wantMembers(t, s, groupA, bA)
	wantGroupsOf(t, s, userA, aB)

	tests := []struct {
		name string
		m    *store.Membership
	}{
		{"missing group", member("299999", userA, 0)},
		{"missing user", member(groupA, "199999", 0)},
		{"user id as a group", member(userB, userA, 0)},
		{"group id as a user", member(groupA, groupB, 0)},
	}
	for _, tt := range tests {
		wantWriteKind(t, s, "AddMember "+tt.name, fault.NotFound, addMember(tt.m))
	}
}

// wantMembers checks the memberships of a group of acctA, in order.
func wantMembers(t tb, s store.Store, groupID string, want ...*store.Membership) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Members(context.Background(), acctA, groupID)
		wantOK(t, "Members", err)
		wantList(t, "Members of "+groupID, got, want, normMembership)
		return nil
	})
}

// wantGroupsOf checks the memberships of a user of acctA, in order.
func wantGroupsOf(t tb, s store.Store, userID string, want ...*store.Membership) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.GroupsOf(context.Background(), acctA, userID)
		wantOK(t, "GroupsOf", err)
		wantList(t, "GroupsOf "+userID, got, want, normMembership)
		return nil
	})
}

// entityDeleteFixture stores two users, two groups (one sharing userA's id)
// and a role, with memberships, attachments and access keys, and returns
// the records that deleting userA or groupA must leave in place.
type entityDeleteFixture struct {
	bobInOps, bobInTwin *store.Membership
	bobToPol, opsToPol  *store.Attachment
	roleToPol           *store.Attachment
	bobKey, rootKey     *store.AccessKey
	otherAccountKey     *store.AccessKey
}

func newEntityDeleteFixture(t tb, s store.Store) *entityDeleteFixture {
	t.Helper()
	f := &entityDeleteFixture{
		bobInOps:        &store.Membership{Account: acctA, GroupID: groupA, UserID: userB, AddedAt: at(1)},
		bobInTwin:       &store.Membership{Account: acctA, GroupID: userA, UserID: userB, AddedAt: at(1)},
		bobToPol:        &store.Attachment{Account: acctA, PolicyID: polA, Kind: store.EntityUser, EntityID: userB, AttachedAt: at(1)},
		opsToPol:        &store.Attachment{Account: acctA, PolicyID: polA, Kind: store.EntityGroup, EntityID: groupA, AttachedAt: at(1)},
		roleToPol:       &store.Attachment{Account: acctA, PolicyID: polA, Kind: store.EntityRole, EntityID: roleA, AttachedAt: at(0)},
		bobKey:          newAccessKey("AKIDBOB", acctA, userB, 0),
		rootKey:         newAccessKey("AKIDROOT", acctA, acctA, 0),
		otherAccountKey: newAccessKey("AKIDB", acctB, userA, 0),
	}
	twin := newEntity(store.EntityGroup, userA, "twin") // a group with userA's id
	mustWrite(t, s, insertEntity(newEntity(store.EntityUser, userA, "alice")),
		insertEntity(newEntity(store.EntityUser, userB, "bob")), insertEntity(twin),
		insertEntity(newEntity(store.EntityGroup, groupA, "ops")),
		insertEntity(newEntity(store.EntityRole, roleA, "deployer")), insertPolicy(newPolicy(polA, "a")),
		addMember(&store.Membership{Account: acctA, GroupID: groupA, UserID: userA}), addMember(f.bobInOps),
		addMember(&store.Membership{Account: acctA, GroupID: userA, UserID: userA}), addMember(f.bobInTwin),
		attach(&store.Attachment{Account: acctA, PolicyID: polA, Kind: store.EntityUser, EntityID: userA}),
		attach(f.roleToPol), attach(f.bobToPol), attach(f.opsToPol))
	insertAccessKeys(t, s, newAccessKey("AKIDALICE1", acctA, userA, 0), newAccessKey("AKIDALICE2", acctA, userA, 1),
		f.bobKey, f.rootKey, f.otherAccountKey)
	return f
}

func testDeleteUser(t *testing.T, s store.Store) {
	f := newEntityDeleteFixture(t, s)
	deleteUser := func(tx store.Tx) error { return tx.DeleteEntity(t.Context(), acctA, store.EntityUser, userA) }
	mustWrite(t, s, deleteUser)
	wantWriteKind(t, s, "DeleteEntity again", fault.NotFound, deleteUser)
	wantGroupsOf(t, s, userA)
	wantMembers(t, s, groupA, f.bobInOps)
	wantMembers(t, s, userA, f.bobInTwin) // the twin group's memberships stay
	wantAttached(t, s, store.EntityUser, userA)
	wantAttachmentsOf(t, s, polA, f.roleToPol, f.opsToPol, f.bobToPol)
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Entity(t.Context(), acctA, store.EntityUser, userA)
		wantKind(t, "Entity deleted", err, fault.NotFound)
		_, err = tx.Entity(t.Context(), acctA, store.EntityGroup, userA)
		wantOK(t, "Entity twin group", err)
		keys, err := tx.AccessKeys(t.Context(), acctA, userA)
		wantOK(t, "AccessKeys", err)
		wantEqual(t, "access keys of the deleted user", len(keys), 0)
		_, err = tx.AccessKey(t.Context(), "AKIDALICE1")
		wantKind(t, "AccessKey of the deleted user", err, fault.NotFound)
		for _, k := range []*store.AccessKey{f.bobKey, f.rootKey, f.otherAccountKey} {
			got, err := tx.AccessKey(t.Context(), k.ID)
			wantOK(t, "AccessKey "+k.ID, err)
			wantEqual(t, "AccessKey "+k.ID, normAccessKey(got), normAccessKey(k))
		}
		return nil
	})
}

func testDeleteGroupAndRole(t *testing.T, s store.Store) {
	f := newEntityDeleteFixture(t, s)
	mustWrite(t, s,
		func(tx store.Tx) error { return tx.DeleteEntity(t.Context(), acctA, store.EntityGroup, groupA) },
		func(tx store.Tx) error { return tx.DeleteEntity(t.Context(), acctA, store.EntityRole, roleA) })
	wantMembers(t, s, groupA)
	wantGroupsOf(t, s, userB, f.bobInTwin)
	wantAttached(t, s, store.EntityGroup, groupA)
	wantAttached(t, s, store.EntityRole, roleA)
	wantAttached(t, s, store.EntityUser, userB, f.bobToPol)
	mustView(t, s, func(tx store.Tx) error {
		keys, err := tx.AccessKeys(t.Context(), acctA, userB)
		wantOK(t, "AccessKeys", err)
		wantEqual(t, "access keys of a group member", len(keys), 1)
		return nil
	})
}

// testIAMScope checks that every method reads and writes within the account
// it is given: acctB sees none of acctA's records.
func testIAMScope(t *testing.T, s store.Store) {
	newEntityDeleteFixture(t, s)
	mustWrite(t, s, insertPolicyVersion(newPolicyVersion(polA, 1, 0)))
	ctx := t.Context()
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Entity(ctx, acctB, store.EntityUser, userA)
		wantKind(t, "Entity", err, fault.NotFound)
		_, err = tx.Entity(ctx, acctA, store.EntityRole, userA)
		wantKind(t, "Entity of another kind", err, fault.NotFound)
		_, err = tx.EntityByName(ctx, acctB, store.EntityUser, "alice")
		wantKind(t, "EntityByName", err, fault.NotFound)
		_, err = tx.EntityByName(ctx, acctA, store.EntityRole, "alice")
		wantKind(t, "EntityByName of another kind", err, fault.NotFound)
		_, err = tx.Policy(ctx, acctB, polA)
		wantKind(t, "Policy", err, fault.NotFound)
		_, err = tx.PolicyByName(ctx, acctB, "a")
		wantKind(t, "PolicyByName", err, fault.NotFound)
		entities, err := tx.Entities(ctx, acctB, store.EntityUser)
		wantOK(t, "Entities", err)
		policies, err := tx.Policies(ctx, acctB)
		wantOK(t, "Policies", err)
		attached, err := tx.AttachedTo(ctx, acctB, store.EntityUser, userA)
		wantOK(t, "AttachedTo", err)
		attachments, err := tx.AttachmentsOf(ctx, acctB, polA)
		wantOK(t, "AttachmentsOf", err)
		members, err := tx.Members(ctx, acctB, groupA)
		wantOK(t, "Members", err)
		groups, err := tx.GroupsOf(ctx, acctB, userA)
		wantOK(t, "GroupsOf", err)
		wantEqual(t, "records listed in acctB",
			[]int{len(entities), len(policies), len(attached), len(attachments), len(members), len(groups)},
			[]int{0, 0, 0, 0, 0, 0})
		return nil
	})
	user, policy := newEntity(store.EntityUser, userA, "alice"), newPolicy(polA, "a")
	user.Account, policy.Account = acctB, acctB
	writes := map[string]func(tx store.Tx) error{
		"UpdateEntity": func(tx store.Tx) error { return tx.UpdateEntity(ctx, user) },
		"DeleteEntity": func(tx store.Tx) error { return tx.DeleteEntity(ctx, acctB, store.EntityUser, userA) },
		"UpdatePolicy": func(tx store.Tx) error { return tx.UpdatePolicy(ctx, policy) },
		"DeletePolicy": func(tx store.Tx) error { return tx.DeletePolicy(ctx, acctB, polA) },
		"Attach":       attach(&store.Attachment{Account: acctB, PolicyID: polA, Kind: store.EntityUser, EntityID: userA}),
		"Detach":       func(tx store.Tx) error { return tx.Detach(ctx, acctB, polA, store.EntityUser, userA) },
		"AddMember":    addMember(&store.Membership{Account: acctB, GroupID: groupA, UserID: userA}),
		"RemoveMember": func(tx store.Tx) error { return tx.RemoveMember(ctx, acctB, groupA, userA) },
	}
	for name, write := range writes {
		wantWriteKind(t, s, name+" from another account", fault.NotFound, write)
	}
}

func testAccounts(t *testing.T, s store.Store) {
	// Inserted out of order; B and C tie on CreatedAt; the zero time is the oldest.
	a := &store.Account{ID: acctA, Name: "A", CreatedAt: at(5)}
	b := &store.Account{ID: acctB, Name: "B", CreatedAt: at(1)}
	c := &store.Account{ID: "100000000003", Name: "C", CreatedAt: at(1)}
	z := &store.Account{ID: "100000000004", Name: "Z"}
	var before []*store.Account
	mustView(t, s, func(tx store.Tx) error {
		var err error
		before, err = tx.Accounts(t.Context())
		return err
	})
	wantEqual(t, "Accounts of an empty store", len(before), 0)
	mustWrite(t, s, func(tx store.Tx) error {
		for _, acct := range []*store.Account{c, a, z, b} {
			if err := tx.InsertAccount(t.Context(), acct); err != nil {
				return err
			}
		}
		return nil
	})
	norm := func(a *store.Account) store.Account {
		return store.Account{ID: a.ID, Name: a.Name, CreatedAt: ms(a.CreatedAt)}
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Accounts(t.Context())
		wantOK(t, "Accounts", err)
		wantList(t, "Accounts", got, []*store.Account{z, b, c, a}, norm)
		return nil
	})
}

func testAccessKeyDescription(t *testing.T, s store.Store) {
	k := newAccessKey("AKID1", acctA, userA, 0)
	k.Description = "CI deploys, rotated quarterly — ✓"
	insertAccessKeys(t, s, k)
	wantAccessKey(t, s, k)
	k.Status, k.Description, k.LastUsedAt = store.AccessKeyInactive, "", at(30)
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(t.Context(), k) })
	wantAccessKey(t, s, k)
	k.Description = "back"
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(t.Context(), k) })
	wantAccessKey(t, s, k)
}

// wantAccessKey checks the stored key, read by id and by listing.
func wantAccessKey(t tb, s store.Store, want *store.AccessKey) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.AccessKey(context.Background(), want.ID)
		wantOK(t, "AccessKey", err)
		wantEqual(t, "AccessKey", normAccessKey(got), normAccessKey(want))
		keys, err := tx.AccessKeys(context.Background(), want.Account, want.Principal)
		wantOK(t, "AccessKeys", err)
		wantList(t, "AccessKeys", keys, []*store.AccessKey{want}, normAccessKey)
		return nil
	})
}

func testAccessKeyDelete(t *testing.T, s store.Store) {
	gone, kept := newAccessKey("AKID1", acctA, userA, 0), newAccessKey("AKID2", acctA, userA, 1)
	insertAccessKeys(t, s, gone, kept)
	deleteKey := func(tx store.Tx) error { return tx.DeleteAccessKey(t.Context(), "AKID1") }
	mustWrite(t, s, deleteKey)
	wantWriteKind(t, s, "DeleteAccessKey again", fault.NotFound, deleteKey)
	wantAccessKey(t, s, kept)
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.AccessKey(t.Context(), "AKID1")
		wantKind(t, "AccessKey deleted", err, fault.NotFound)
		return nil
	})
}
