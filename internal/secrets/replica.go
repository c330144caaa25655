package secrets

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Replication: a secret in one region (its primary) copied to other
// regions, of this deployment or of another one linked to it. A replica is
// an ordinary secret of its region, sealed under that region's keys and
// marked with its primary's region; it cannot be changed except by the
// replication that follows its primary, until it is promoted.

// The replica statuses a primary records, as AWS names them.
const (
	ReplicaInProgress = "InProgress"
	ReplicaInSync     = "InSync"
	ReplicaFailed     = "Failed"
	// ReplicaRemoving is a region being removed from replication: kept
	// until the replica there is deleted.
	ReplicaRemoving = "Removing"
)

// loadWritable loads a secret a caller may change: not a replica.
func loadWritable(ctx context.Context, tx store.Tx, op string, sc Scope, name string) (*Secret, error) {
	sec, err := load(ctx, tx, op, sc, name)
	if err != nil {
		return nil, err
	}
	if sec.PrimaryRegion != "" {
		return nil, fault.E(op, fault.WrongState, "secret "+sec.Name+" is a replica of the secret in "+sec.PrimaryRegion+
			"; change it there, or promote this replica first").Because(fault.IsReplica)
	}
	return sec, nil
}

// ReplicaInput asks for a secret to be replicated to a region.
type ReplicaInput struct {
	Region string
	KeyID  string // the CMK to seal with there; "" for the account's default
}

// AddReplicas replicates a secret to more regions. Regions it is already
// replicated to keep their settings. It returns fault.Invalid for the
// secret's own region or a region named twice.
func (s *Service) AddReplicas(ctx context.Context, sc Scope, name string, in []ReplicaInput) (*Secret, error) {
	const op = "secrets.AddReplicas"
	seen := map[string]bool{}
	for _, r := range in {
		if r.Region == "" || seen[r.Region] {
			return nil, fault.E(op, fault.Invalid, "each replica region must be given once")
		}
		if r.Region == sc.Region {
			return nil, fault.E(op, fault.Invalid, "a secret cannot be replicated to its own region "+r.Region)
		}
		seen[r.Region] = true
	}
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
			return err
		}
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return err
		}
		for _, r := range in {
			i := slices.IndexFunc(sec.Replicas, func(x store.Replica) bool { return x.Region == r.Region })
			if i >= 0 && sec.Replicas[i].Status != ReplicaRemoving {
				continue
			}
			if i >= 0 {
				sec.Replicas = slices.Delete(sec.Replicas, i, i+1)
			}
			sec.Replicas = append(sec.Replicas, store.Replica{Region: r.Region, KeyID: r.KeyID, Status: ReplicaInProgress})
		}
		return s.touch(ctx, tx, sec, now)
	})
	return sec, err
}

// RemoveReplicas stops replicating a secret to regions; the replicas there
// are deleted. Regions it is not replicated to are ignored.
func (s *Service) RemoveReplicas(ctx context.Context, sc Scope, name string, regions []string) (*Secret, error) {
	const op = "secrets.RemoveReplicas"
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
			return err
		}
		for i := range sec.Replicas {
			if slices.Contains(regions, sec.Replicas[i].Region) {
				sec.Replicas[i].Status, sec.Replicas[i].Message = ReplicaRemoving, ""
			}
		}
		return s.touch(ctx, tx, sec, now)
	})
	return sec, err
}

// Promote makes a replica a primary of its own: writable, no longer
// following the secret it was copied from (AWS StopReplicationToReplica,
// called in the replica's region). It returns fault.WrongState (Reason
// NotReplica) for a secret that is not a replica.
func (s *Service) Promote(ctx context.Context, sc Scope, name string) (*Secret, error) {
	const op = "secrets.Promote"
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = load(ctx, tx, op, sc, name); err != nil {
			return err
		}
		if sec.PrimaryRegion == "" {
			return fault.E(op, fault.WrongState, "secret "+sec.Name+" is not a replica").Because(fault.NotReplica)
		}
		sec.PrimaryRegion = ""
		return s.touch(ctx, tx, sec, now)
	})
	return sec, err
}

// ReplicaVersion is one version as replication carries it: the value in
// the clear, only in memory and over the link's TLS.
type ReplicaVersion struct {
	ID        string
	Stages    []string
	Binary    bool
	Value     []byte
	CreatedAt time.Time
}

// ReplicaState is a primary secret's whole state at one revision, as a
// replica applies it.
type ReplicaState struct {
	Account       string
	Region        string // the replica's region
	PrimaryRegion string
	Name          string
	PrimaryID     string
	Revision      int64     // the primary's revision; a replica never applies an older one
	ReadAt        time.Time // when the primary read this state: every change committed before is in it
	KeyID         string
	Removed       bool // delete the replica
	Force         bool // overwrite a secret of the same name that is not a replica

	Description string
	Type        store.SecretType
	Status      store.SecretStatus
	DeleteAt    time.Time
	Tags        []Tag
	Config      string
	Product     string
	Versions    []ReplicaVersion
}

// Clear zeroes the values a state carries.
func (st *ReplicaState) Clear() {
	for _, v := range st.Versions {
		clear(v.Value)
	}
}

// StateFor returns the state of secret id to send to its replica in
// region: every version with its value. The values are plaintext: the
// caller sends them over TLS and clears them (Clear).
func (s *Service) StateFor(ctx context.Context, id string, r store.Replica) (*ReplicaState, error) {
	const op = "secrets.StateFor"
	var st *ReplicaState
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sec, err := tx.SecretByID(ctx, id)
		if err != nil {
			return err
		}
		st = &ReplicaState{
			Account: sec.Account, Region: r.Region, PrimaryRegion: sec.Region, Name: sec.Name, PrimaryID: sec.ID,
			Revision: sec.Revision, ReadAt: s.now(), KeyID: r.KeyID, Removed: r.Status == ReplicaRemoving,
			Description: sec.Description, Type: sec.Type, Status: sec.Status, DeleteAt: sec.DeleteAt,
			Tags: sec.Tags, Config: sec.Config, Product: sec.Product,
		}
		if st.Removed {
			return nil
		}
		vs, err := tx.Versions(ctx, sec.ID)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		for _, v := range vs {
			val, err := s.open(ctx, tx, op, sec, v)
			if err != nil {
				st.Clear()
				return err
			}
			st.Versions = append(st.Versions, ReplicaVersion{ID: v.ID, Stages: v.Stages, Binary: val.IsBinary(), Value: val.Bytes(), CreatedAt: v.CreatedAt})
		}
		return nil
	})
	return st, err
}

// Ack records what a replica region answered for the primary secret id:
// the revision it now holds, read at readAt (so every change committed
// before readAt is there), or why it failed. A secret deleted meanwhile
// is not an error.
func (s *Service) Ack(ctx context.Context, id, region string, revision int64, readAt time.Time, failure error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		sec, err := tx.SecretByID(ctx, id)
		if fault.Is(err, fault.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		i := slices.IndexFunc(sec.Replicas, func(x store.Replica) bool { return x.Region == region })
		if i < 0 {
			return nil
		}
		r := &sec.Replicas[i]
		switch {
		case failure != nil:
			if r.Status != ReplicaRemoving { // a removal stays one until it is done
				r.Status = ReplicaFailed
			}
			r.Message = fault.Message(failure)
			if r.Message == "internal error" {
				r.Message = "the replica region could not be reached"
			}
		case r.Status == ReplicaRemoving:
			sec.Replicas = slices.Delete(sec.Replicas, i, i+1)
		default:
			r.Status, r.Message, r.Revision, r.SyncedAt = ReplicaInSync, "", revision, readAt
		}
		return tx.SetReplicas(ctx, id, sec.Replicas)
	})
}

// Apply brings the replica in st.Region up to st, in one transaction: the
// replica is created when absent, its versions sealed under this region's
// keys, its stage labels and metadata made the primary's, and versions the
// primary no longer has deleted. A state older than the one applied last
// changes nothing, so deliveries may repeat and arrive late. It returns
// fault.WrongState (Reason NotReplica) when a secret of the name exists
// and is not a replica, unless st.Force.
func (s *Service) Apply(ctx context.Context, st *ReplicaState) error {
	const op = "secrets.Apply"
	sc := Scope{Account: st.Account, Region: st.Region}
	applied := "replica-applied:" + st.Account + "/" + st.Region + "/" + st.Name
	return s.update(ctx, func(tx store.Tx, now time.Time) error {
		if last, err := tx.Meta(ctx, applied); err == nil {
			var n int64
			if _, err := fmt.Sscan(last, &n); err == nil && n >= st.Revision {
				return nil
			}
		}
		sec, err := tx.Secret(ctx, st.Account, st.Region, st.Name)
		switch {
		case fault.Is(err, fault.NotFound):
			sec = nil
		case err != nil:
			return err
		case st.Removed && sec.PrimaryRegion == "":
			sec = nil // promoted meanwhile: it is no longer the primary's to delete
		case sec.PrimaryRegion == "" && !st.Force:
			return fault.E(op, fault.WrongState, "a secret named "+st.Name+" exists in "+st.Region+" and is not a replica").Because(fault.NotReplica)
		}
		if st.Removed {
			if sec != nil {
				if err := tx.DeleteSecret(ctx, sec.ID); err != nil {
					return fmt.Errorf("delete replica: %w", err)
				}
			}
			return s.noteApplied(ctx, tx, applied, st, "RemoveReplica")
		}
		if sec == nil {
			key, err := s.keyFor(ctx, tx, op, sc, st.KeyID, now)
			if err != nil {
				return err
			}
			sec = newSecret(sc, CreateInput{Name: st.Name, Type: st.Type, CreatedBy: "coffer"}, key.ID, now)
			sec.PrimaryRegion = st.PrimaryRegion
			if len(st.PrimaryID) >= 6 {
				// The primary's ARN suffix, as AWS replicas keep it: the
				// replica's ARN differs from the primary's by region only.
				sec.ID = st.PrimaryID[:6] + NewID(16)
				sec.ResourceID = sec.ID
			}
			if err := tx.InsertSecret(ctx, sec); err != nil {
				return fmt.Errorf("insert replica: %w", err)
			}
		}
		if err := s.applyVersions(ctx, tx, op, sec, st); err != nil {
			return err
		}
		sec.Description, sec.Type, sec.Status, sec.DeleteAt = st.Description, st.Type, st.Status, st.DeleteAt
		sec.Tags, sec.Tagged, sec.Config, sec.Product = st.Tags, len(st.Tags) > 0 || sec.Tagged, st.Config, st.Product
		sec.PrimaryRegion = st.PrimaryRegion
		if err := s.touch(ctx, tx, sec, now); err != nil {
			return err
		}
		return s.noteApplied(ctx, tx, applied, st, "ApplyReplica")
	})
}

func (s *Service) noteApplied(ctx context.Context, tx store.Tx, key string, st *ReplicaState, action string) error {
	if err := tx.SetMeta(ctx, key, fmt.Sprint(st.Revision)); err != nil {
		return fmt.Errorf("record applied revision: %w", err)
	}
	if s.Audit == nil {
		return nil
	}
	ev := &audit.Event{
		Account: st.Account, PrincipalID: "coffer", PrincipalName: "coffer", PrincipalKind: "system", Region: st.Region,
		Family: "coffer", Action: action, Resource: st.Name, RequestID: NewRequestID(),
		Params: fmt.Sprintf(`{"PrimaryRegion":%q,"Revision":%d,"Versions":%d}`, st.PrimaryRegion, st.Revision, len(st.Versions)),
	}
	return s.Audit.Append(ctx, tx, ev)
}

// applyVersions makes sec's versions those of st: new ones sealed here,
// gone ones deleted, labels moved so that no label is ever on two versions.
func (s *Service) applyVersions(ctx context.Context, tx store.Tx, op string, sec *Secret, st *ReplicaState) error {
	have, err := tx.Versions(ctx, sec.ID)
	if err != nil {
		return fmt.Errorf("list versions: %w", err)
	}
	want := map[string]ReplicaVersion{}
	for _, v := range st.Versions {
		want[v.ID] = v
	}
	// First delete what went and take away labels that move.
	for _, v := range have {
		w, ok := want[v.ID]
		if !ok {
			if err := tx.DeleteVersion(ctx, sec.ID, v.ID); err != nil {
				return fmt.Errorf("delete version %s: %w", v.ID, err)
			}
			continue
		}
		if kept := intersect(v.Stages, w.Stages); len(kept) != len(v.Stages) {
			v.Stages = kept
			if err := tx.UpdateVersion(ctx, v); err != nil {
				return fmt.Errorf("update version %s: %w", v.ID, err)
			}
		}
	}
	var key *store.Key
	for _, w := range st.Versions {
		i := slices.IndexFunc(have, func(v *Version) bool { return v.ID == w.ID })
		if i >= 0 {
			v := have[i]
			if !slices.Equal(v.Stages, w.Stages) {
				v.Stages = slices.Clone(w.Stages)
				if err := tx.UpdateVersion(ctx, v); err != nil {
					return fmt.Errorf("update version %s: %w", v.ID, err)
				}
			}
			continue
		}
		if key == nil {
			if key, err = s.secretKey(ctx, tx, op, sec); err != nil {
				return err
			}
		}
		val := StringValue(string(w.Value))
		if w.Binary {
			val = BinaryValue(w.Value)
		}
		ver, err := s.seal(ctx, key, sec, w.ID, val, w.CreatedAt)
		clear(val.b)
		if err != nil {
			return err
		}
		ver.Stages = slices.Clone(w.Stages)
		if err := tx.InsertVersion(ctx, ver); err != nil {
			return fmt.Errorf("insert version %s: %w", w.ID, err)
		}
	}
	return nil
}

// ReplicaLag is how far a replica is behind its primary: zero when it holds
// the primary's revision, otherwise the time since the state it holds was
// read (every change committed before then is there), or since the primary
// last changed when it never acknowledged anything.
func ReplicaLag(sec *Secret, r store.Replica, now time.Time) time.Duration {
	if r.Status == ReplicaInSync && r.Revision >= sec.Revision {
		return 0
	}
	since := r.SyncedAt
	if since.IsZero() {
		since = sec.UpdatedAt
	}
	return max(now.Sub(since), 0)
}

// ReplicaReport is how a replica region stands, as the APIs show it.
type ReplicaReport struct {
	Region   string
	KeyID    string
	Status   string // InProgress, InSync, Failed (a region being removed shows InProgress)
	Message  string
	SyncedAt time.Time
	Lag      time.Duration // ReplicaLag
}

// ReplicaReports describes a primary's replicas: a replica behind its
// primary is InProgress however it last answered, unless it Failed.
func ReplicaReports(sec *Secret, now time.Time) []ReplicaReport {
	out := make([]ReplicaReport, 0, len(sec.Replicas))
	for _, r := range sec.Replicas {
		rep := ReplicaReport{Region: r.Region, KeyID: r.KeyID, Status: r.Status, Message: r.Message, SyncedAt: r.SyncedAt, Lag: ReplicaLag(sec, r, now)}
		switch {
		case r.Status == ReplicaRemoving:
			rep.Status, rep.Message = ReplicaInProgress, "being removed"
		case r.Status == ReplicaInSync && rep.Lag > 0:
			rep.Status = ReplicaInProgress
		}
		out = append(out, rep)
	}
	return out
}
