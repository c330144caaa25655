package storetest

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/store"
)

// newSecret returns a secret in (acctA, regionX) with every field set, so a
// round trip checks every column. It has both Replicas and a PrimaryRegion:
// the store holds no rules.
func newSecret(id, name string) *store.Secret {
	return &store.Secret{
		ID:          id,
		Account:     acctA,
		Region:      regionX,
		Name:        name,
		Description: "the " + name + " secret",
		Type:        store.TypeDatabase,
		KeyID:       "key-" + id,
		Status:      store.StatusEnabled,
		DeleteAt:    at(60),
		CreatedAt:   at(0),
		UpdatedAt:   at(1),
		AccessedAt:  at(2),
		CreatedBy:   "200000000001",
		Tags:        []store.Tag{{Key: "team", Value: "pay"}, {Key: "env", Value: "prod"}, {Key: "a", Value: ""}},
		Config:      `{"host":"db.internal","port":3306}`,
		Product:     "Mysql",
		ResourceID:  "cdb-" + id,
		Rotation: store.Rotation{
			Enabled: true,
			Days:    30,
			Begin:   at(3),
			Next:    at(4),
			Last:    at(5),
			Rotator: "https://rotator.internal/hook",
		},
		Policy:        `{"Version":"2012-10-17","Statement":[]}`,
		Tagged:        true,
		Replicas:      newReplicas(id),
		PrimaryRegion: regionY,
		Revision:      7,
	}
}

// newReplicas returns two replicas with every field set, one of them
// never synced (a zero time).
func newReplicas(id string) []store.Replica {
	return []store.Replica{
		{Region: regionY, KeyID: "key-" + id + "-y", Status: "InSync", Revision: 6, SyncedAt: at(6)},
		{Region: "eu-frankfurt", Status: "Failed", Message: `key "` + id + `" is disabled: ключ <недоступен>`},
	}
}

// bareSecret returns a secret with only its identity set: zero times, no
// tags, empty strings.
func bareSecret(id, account, region, name string) *store.Secret {
	return &store.Secret{ID: id, Account: account, Region: region, Name: name, Status: store.StatusEnabled}
}

// newVersion returns a version with every field set.
func newVersion(secretID, id string, stages ...string) *store.Version {
	return &store.Version{
		SecretID:   secretID,
		ID:         id,
		Stages:     stages,
		Binary:     true,
		Ciphertext: []byte{0, 1, 2, 0xfe, 0xff, 'c', 0},
		WrappedKey: []byte("wrapped:" + id),
		KeyID:      "key-1",
		KeyVersion: 3,
		Token:      "token-" + id,
		CreatedAt:  at(10),
	}
}

// newKey returns a CMK in (acctA, regionX) with two material versions.
func newKey(id, alias string) *store.Key {
	return &store.Key{
		ID:          id,
		Account:     acctA,
		Region:      regionX,
		Alias:       alias,
		Description: "key " + id,
		State:       store.KeyEnabled,
		Default:     true,
		DeleteAt:    at(90),
		CreatedAt:   at(0),
		Material: []store.KeyMaterial{
			{Version: 1, Wrapped: []byte{9, 8, 7, 0}, CreatedAt: at(0)},
			{Version: 2, Wrapped: []byte{6, 5, 4}, CreatedAt: at(30)},
		},
		Rotation: store.KeyRotation{Enabled: true, Days: 90, Next: at(120), Last: at(30)},
		Revision: 1,
	}
}

// insertSecrets stores secrets in one transaction.
func insertSecrets(t tb, s store.Store, secrets ...*store.Secret) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, sec := range secrets {
			if err := tx.InsertSecret(context.Background(), sec); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertVersions stores versions in one transaction.
func insertVersions(t tb, s store.Store, versions ...*store.Version) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, v := range versions {
			if err := tx.InsertVersion(context.Background(), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// getSecret reads a secret by id in a View and fails the test on error.
func getSecret(t tb, s store.Store, id string) *store.Secret {
	t.Helper()
	var got *store.Secret
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.SecretByID(context.Background(), id)
		return err
	})
	return got
}

// getVersions reads a secret's versions in a View.
func getVersions(t tb, s store.Store, secretID string) []*store.Version {
	t.Helper()
	var got []*store.Version
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.Versions(context.Background(), secretID)
		return err
	})
	return got
}
