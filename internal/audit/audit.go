// Package audit records every call Coffer serves as an event in a hash
// chain: each event's hash covers the previous one, so an edited, removed
// or reordered event breaks the chain, and signed checkpoints pin its head.
//
// State changes append their event inside their own transaction (Log.Append);
// everything else goes through the group-commit Writer, which makes a batch of
// concurrent events durable with one commit before any of their calls answer.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// Event is one audited call.
type Event = store.Event

// Checkpoint is a signed statement of the chain's head.
type Checkpoint = store.Checkpoint

// HashSize is the size of an event hash.
const HashSize = sha256.Size

// genesis is the previous hash of the first event.
var genesis = make([]byte, HashSize)

// Hash returns the hash of e chained after prev: SHA-256 over a versioned,
// length-prefixed encoding of every field but Hash itself, so no two
// different events encode alike.
func Hash(prev []byte, e *Event) []byte {
	h := sha256.New()
	var buf []byte
	field := func(s string) {
		buf = binary.BigEndian.AppendUint32(buf[:0], uint32(len(s)))
		h.Write(buf)
		h.Write([]byte(s))
	}
	field("coffer-audit-event-v1")
	field(string(prev))
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(e.Time.UnixMilli(), 10))
	for _, s := range []string{
		e.Account, e.PrincipalID, e.PrincipalName, e.PrincipalKind, e.Session, e.AccessKeyID,
		e.SourceIP, e.UserAgent, e.Region, e.Family, e.Action, strconv.FormatBool(e.ReadOnly),
		e.Resource, e.VersionID, e.RequestID, e.ErrorCode, e.Params,
	} {
		field(s)
	}
	return h.Sum(nil)
}

// chain assigns sequence numbers and hashes to evs after the head (seq, prev).
func chain(seq int64, prev []byte, evs []*Event) (int64, []byte) {
	if prev == nil {
		prev = genesis
	}
	for _, e := range evs {
		seq++
		e.Seq = seq
		e.PrevHash = prev
		e.Hash = Hash(prev, e)
		prev = e.Hash
	}
	return seq, prev
}

// now is the time events are stamped with, at the store's precision.
func now(clock func() time.Time) time.Time {
	if clock == nil {
		clock = time.Now
	}
	return clock().UTC().Truncate(time.Millisecond)
}
