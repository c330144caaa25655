package audit

import (
	"context"
	"sync"
)

// pending is the event of the call in progress, carried in its context so
// the core can append it inside the transaction of its state change and
// note what only the core knows (the version read or written).
type pending struct {
	mu        sync.Mutex
	ev        *Event
	committed bool
	reads     int // values read so far (a batch reads several)
}

type ctxKey struct{}

// With returns a context carrying ev as the event of the call in progress.
func With(ctx context.Context, ev *Event) context.Context {
	return context.WithValue(ctx, ctxKey{}, &pending{ev: ev})
}

func from(ctx context.Context) *pending {
	p, _ := ctx.Value(ctxKey{}).(*pending)
	return p
}

// NoteVersion records the version the call wrote.
func NoteVersion(ctx context.Context, versionID string) {
	if p := from(ctx); p != nil {
		p.mu.Lock()
		p.ev.VersionID = versionID
		p.mu.Unlock()
	}
}

// NoteRead records a secret value the call read: its name and version. A
// call that reads several (BatchGetSecretValue) lists them all, comma
// separated and in the same order in Resource and VersionID (names and
// version ids cannot contain commas).
func NoteRead(ctx context.Context, name, versionID string) {
	p := from(ctx)
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reads == 0 {
		p.ev.Resource, p.ev.VersionID = name, versionID
	} else {
		p.ev.Resource += "," + name
		p.ev.VersionID += "," + versionID
	}
	p.reads++
}

// Committed reports whether the call's event was committed with a state
// change, so the gate need not record it again.
func Committed(ctx context.Context) bool {
	p := from(ctx)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.committed
}
