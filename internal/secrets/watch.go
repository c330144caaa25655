package secrets

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// hub wakes those waiting for a change: every committed write closes the
// channel they wait on.
type hub struct {
	gen      atomic.Uint64 // committed writes so far
	mu       sync.Mutex
	ch       chan struct{}
	stopOnce sync.Once
	stop     chan struct{} // closed when the server stops: waits end
}

func (h *hub) stopped() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop == nil {
		h.stop = make(chan struct{})
	}
	return h.stop
}

func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		h.ch = make(chan struct{})
	}
	return h.ch
}

// generation counts the writes committed on this server.
func (h *hub) generation() uint64 { return h.gen.Load() }

func (h *hub) broadcast() {
	h.gen.Add(1)
	h.mu.Lock()
	ch := h.ch
	h.ch = nil
	h.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// StopWaits ends every WaitChange in progress, and makes later ones
// answer at once: the server is shutting down.
func (s *Service) StopWaits() {
	ch := s.changes.stopped()
	s.changes.stopOnce.Do(func() { close(ch) })
}

// Changed tells waiters that secrets may have changed elsewhere (another
// server of a cluster): they look again.
func (s *Service) Changed() { s.changes.broadcast() }

// WatchPoll is how often a waiter looks again without being woken, so a
// change made by another server is seen within it.
const WatchPoll = 2 * time.Second

// WaitChange waits up to wait for the version a caller reads by default
// (the current one, or a roll-out's) to differ from known, and returns
// that version's id and whether it differs. known "" returns at once.
func (s *Service) WaitChange(ctx context.Context, sc Scope, name, known string, wait time.Duration) (string, bool, error) {
	const op = "secrets.WaitChange"
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(WatchPoll)
	defer tick.Stop()
	for {
		woken := s.changes.wait() // before the read: a change after it wakes us
		var id string
		err := s.Store.View(ctx, func(tx store.Tx) error {
			sec, err := load(ctx, tx, op, sc, name)
			if err != nil {
				return err
			}
			v, err := pick(ctx, tx, op, sec, Selector{})
			if err != nil {
				return err
			}
			id = v.ID
			return nil
		})
		if err != nil {
			return "", false, err
		}
		if id != known || known == "" {
			return id, true, nil
		}
		select {
		case <-woken:
		case <-tick.C:
		case <-deadline.C:
			return id, false, nil
		case <-s.changes.stopped():
			return id, false, nil
		case <-ctx.Done():
			return id, false, ctx.Err()
		}
	}
}
