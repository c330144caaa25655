package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// DefaultMaxBatch bounds how many events one group commit writes.
const DefaultMaxBatch = 512

// Writer makes events durable by group commit: events recorded by
// concurrent calls while a commit is under way are written together by the
// next one, so auditing every read costs a share of one commit.
type Writer struct {
	Log      *Log
	MaxBatch int
	// Observe, when set, is called after each group commit with the number
	// of events, how long the commit took, and its error (nil on success).
	// It runs on the commit goroutine, so it must be quick.
	Observe func(events int, d time.Duration, err error)

	once   sync.Once
	queue  chan *recording
	closed chan struct{}
	done   chan struct{}
}

type recording struct {
	ev  *Event
	err chan error
}

var errClosed = errors.New("audit writer closed")

func (w *Writer) init() {
	w.once.Do(func() {
		if w.MaxBatch == 0 {
			w.MaxBatch = DefaultMaxBatch
		}
		w.queue = make(chan *recording, w.MaxBatch)
		w.closed = make(chan struct{})
		w.done = make(chan struct{})
		go w.run()
	})
}

// Record makes ev durable and returns nil once it is. It returns a
// fault.Unavailable error when the store cannot take it, or ctx's error.
func (w *Writer) Record(ctx context.Context, ev *Event) error {
	w.init()
	r := &recording{ev: ev, err: make(chan error, 1)}
	select {
	case w.queue <- r:
	case <-w.closed:
		return fault.Wrap("audit.Record", fault.Unavailable, "the audit log is closed", errClosed)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Writer) run() {
	defer close(w.done)
	for {
		select {
		case r := <-w.queue:
			w.commit(w.gather(r))
		case <-w.closed:
			w.drain()
			return
		}
	}
}

// gather takes r and whatever else is queued, up to MaxBatch.
func (w *Writer) gather(r *recording) []*recording {
	batch := []*recording{r}
	for len(batch) < w.MaxBatch {
		select {
		case r := <-w.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

func (w *Writer) commit(batch []*recording) {
	evs := make([]*Event, len(batch))
	for i, r := range batch {
		evs[i] = r.ev
	}
	start := time.Now()
	err := w.Log.Store.Update(context.Background(), func(tx store.Tx) error {
		return w.Log.Append(context.Background(), tx, evs...)
	})
	if w.Observe != nil {
		w.Observe(len(evs), time.Since(start), err)
	}
	if err != nil {
		err = fault.Wrap("audit.Record", fault.Unavailable, "the audit log cannot be written", fmt.Errorf("commit %d events: %w", len(evs), err))
	} else {
		w.Log.Notify()
	}
	for _, r := range batch {
		r.err <- err
	}
}

// drain commits what is still queued at Close.
func (w *Writer) drain() {
	for {
		select {
		case r := <-w.queue:
			w.commit(w.gather(r))
		default:
			return
		}
	}
}

// Queued returns how many events wait for a commit, not counting the
// batch being written.
func (w *Writer) Queued() int {
	w.init()
	return len(w.queue)
}

// Close stops the writer after committing what was queued.
func (w *Writer) Close() {
	w.init()
	select {
	case <-w.closed:
	default:
		close(w.closed)
	}
	<-w.done
}
