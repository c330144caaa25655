package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// checkpointMessage is what a checkpoint's signature covers: a versioned,
// length-prefixed encoding, so no two checkpoints (and no event hash input)
// encode alike.
func checkpointMessage(seq int64, head []byte, t time.Time, keyID string) []byte {
	var msg []byte
	for _, s := range []string{
		"coffer-audit-checkpoint-v1", strconv.FormatInt(seq, 10), string(head),
		strconv.FormatInt(t.UnixMilli(), 10), keyID,
	} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(s)))
		msg = append(msg, s...)
	}
	return msg
}

// Sign returns a checkpoint stating that head is the hash of event seq,
// signed with k at t (kept to the millisecond, as the store keeps it).
func Sign(k *Keys, seq int64, head []byte, t time.Time) *Checkpoint {
	t = t.UTC().Truncate(time.Millisecond)
	return &Checkpoint{
		Seq:       seq,
		Head:      bytes.Clone(head),
		Time:      t,
		KeyID:     k.KeyID,
		Signature: ed25519.Sign(k.Signer, checkpointMessage(seq, head, t, k.KeyID)),
	}
}

// VerifyCheckpoint returns nil when c was signed by pub's private key. It
// returns a fault.Invalid error when c names another key or its signature
// does not verify.
func VerifyCheckpoint(pub ed25519.PublicKey, c *Checkpoint) error {
	const op = "audit.VerifyCheckpoint"
	if len(pub) != ed25519.PublicKeySize {
		return fault.E(op, fault.Invalid, "the public key is malformed")
	}
	if c.KeyID != KeyID(pub) {
		return fault.E(op, fault.Invalid, "the checkpoint names another signing key")
	}
	if !ed25519.Verify(pub, checkpointMessage(c.Seq, c.Head, c.Time, c.KeyID), c.Signature) {
		return fault.E(op, fault.Invalid, "the checkpoint signature does not verify")
	}
	return nil
}

// DefaultCheckpointInterval is how often a Checkpointer without an
// Interval signs the chain's head.
const DefaultCheckpointInterval = time.Minute

// Checkpointer signs the chain's head at a fixed interval, so an event
// removed or edited after a checkpoint is caught even with its successors
// rewritten to match.
type Checkpointer struct {
	Log      *Log
	Keys     *Keys
	Interval time.Duration    // DefaultCheckpointInterval when 0
	Clock    func() time.Time // time.Now when nil
	Logger   *slog.Logger     // failures are logged here; discarded when nil
}

// Run signs a checkpoint every Interval while the head moves, and one last
// time when ctx is done (so the head at shutdown is pinned). It returns
// when ctx is done.
func (c *Checkpointer) Run(ctx context.Context) {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultCheckpointInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			c.logged(c.CheckpointNow(final))
			return
		case <-t.C:
			c.logged(c.CheckpointNow(ctx))
		}
	}
}

func (c *Checkpointer) logged(_ *Checkpoint, err error) {
	if err != nil && c.Logger != nil {
		c.Logger.Error("audit checkpoint", "error", err)
	}
}

// CheckpointNow returns a checkpoint at the chain's current head, signing
// and storing one when the latest checkpoint is older. It returns nil and
// no error while the chain is empty, and the store's error when it cannot
// read the head or store the checkpoint.
func (c *Checkpointer) CheckpointNow(ctx context.Context) (*Checkpoint, error) {
	var cp *Checkpoint
	err := c.Log.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		cp, err = checkpointHead(ctx, tx, c.Keys, now(c.Clock))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	c.Log.Notify() // the exporter copies checkpoints too
	return cp, nil
}

// checkpointHead reads the head and stores a checkpoint at it in one
// transaction, so no event can slip in between.
func checkpointHead(ctx context.Context, tx store.Tx, k *Keys, t time.Time) (*Checkpoint, error) {
	seq, head, err := tx.AuditHead(ctx)
	if err != nil || seq == 0 {
		return nil, err
	}
	latest, err := tx.LatestCheckpoint(ctx)
	switch {
	case err == nil && latest.Seq >= seq:
		return latest, nil
	case err != nil && !fault.Is(err, fault.NotFound):
		return nil, err
	}
	cp := Sign(k, seq, head, t)
	return cp, tx.InsertCheckpoint(ctx, cp)
}
