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
//
// Over a store that can sync apart from committing (store.Syncer, the
// embedded store), a batch is committed without waiting for the disk and
// handed to a second goroutine that flushes the log and only then tells
// the callers: the next batch is written while the last one is flushed,
// and one flush may cover several batches. A caller is told its event is
// recorded only once it is durable, as before.
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

	syncer  store.Syncer      // nil: each commit waits for the disk
	synced  chan []*recording // committed batches waiting for a flush
	flushed chan struct{}     // closed when the flusher is done
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
		if sy, ok := w.Log.Store.(store.Syncer); ok {
			w.syncer = sy
			// Unbuffered: while a flush runs, one committed batch waits
			// for the next and new events gather into a larger batch,
			// rather than being committed in many small ones.
			w.synced = make(chan []*recording)
			w.flushed = make(chan struct{})
			go w.flush()
		}
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
	if w.synced != nil {
		defer func() { close(w.synced); <-w.flushed }()
	}
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
	update := w.Log.Store.Update
	if w.syncer != nil {
		update = w.syncer.UpdateUnsynced
	}
	err := update(context.Background(), func(tx store.Tx) error {
		return w.Log.Append(context.Background(), tx, evs...)
	})
	if w.Observe != nil {
		w.Observe(len(evs), time.Since(start), err)
	}
	if err != nil {
		w.answer(batch, fault.Wrap("audit.Record", fault.Unavailable, "the audit log cannot be written", fmt.Errorf("commit %d events: %w", len(evs), err)))
		return
	}
	if w.syncer != nil {
		w.synced <- batch
		return
	}
	w.Log.Notify()
	w.answer(batch, nil)
}

// flush makes committed batches durable, as many at once as are waiting,
// and then answers their callers.
func (w *Writer) flush() {
	defer close(w.flushed)
	for batch := range w.synced {
		batches := [][]*recording{batch}
	more:
		for {
			select {
			case b, ok := <-w.synced:
				if !ok {
					break more
				}
				batches = append(batches, b)
			default:
				break more
			}
		}
		err := w.syncer.Sync()
		if err != nil {
			err = fault.Wrap("audit.Record", fault.Unavailable, "the audit log cannot be written", fmt.Errorf("sync: %w", err))
		} else {
			w.Log.Notify()
		}
		for _, b := range batches {
			w.answer(b, err)
		}
	}
}

func (w *Writer) answer(batch []*recording, err error) {
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
