package cluster

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel servers share.
const Channel = "coffer_changes"

// Notifier tells the other servers of a cluster that something cached
// changed, and hears them tell this one.
type Notifier interface {
	// Publish announces a change of topic ("iam").
	Publish(ctx context.Context, topic string) error
	// Run delivers other servers' announcements to on until ctx ends. It
	// also calls on(""), meaning "anything may have changed", whenever it
	// may have missed announcements (after a lost connection) and every
	// MaxStale as a bound on staleness.
	Run(ctx context.Context, on func(topic string))
}

// Local is the notifier of a single server: nobody to tell.
type Local struct{}

// Publish does nothing.
func (Local) Publish(context.Context, string) error { return nil }

// Run waits for ctx to end.
func (Local) Run(ctx context.Context, _ func(string)) { <-ctx.Done() }

// MaxStale bounds how long a cache may miss a change whose announcement
// was lost (a server that crashed between commit and publish).
const MaxStale = 30 * time.Second

// PG announces changes with PostgreSQL's NOTIFY and hears them with
// LISTEN, on connections of its own.
type PG struct {
	DSN    string
	Holder string // this server; its own announcements are skipped
	Log    *slog.Logger

	mu  sync.Mutex
	pub *pgx.Conn
}

// Publish sends NOTIFY on the shared channel. It is best effort: a lost
// announcement is covered by MaxStale.
func (p *PG) Publish(ctx context.Context, topic string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if p.pub == nil || p.pub.IsClosed() {
			c, err := pgx.Connect(ctx, p.DSN)
			if err != nil {
				return err
			}
			p.pub = c
		}
		_, err := p.pub.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, topic+" "+p.Holder)
		if err == nil {
			return nil
		}
		p.pub.Close(ctx)
		p.pub = nil
		if attempt == 1 {
			return err
		}
	}
	return nil
}

// Run listens until ctx ends, reconnecting after failures.
func (p *PG) Run(ctx context.Context, on func(topic string)) {
	defer func() {
		p.mu.Lock()
		if p.pub != nil {
			p.pub.Close(context.Background())
		}
		p.mu.Unlock()
	}()
	go func() { // the staleness bound
		t := time.NewTicker(MaxStale)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				on("")
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listen(ctx, on)
		if ctx.Err() != nil {
			return
		}
		if p.Log != nil {
			p.Log.Warn("change notifications lost; retrying", "error", err.Error())
		}
		on("") // announcements may have been missed meanwhile
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (p *PG) listen(ctx context.Context, on func(string)) error {
	c, err := pgx.Connect(ctx, p.DSN)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	on("") // anything committed before LISTEN took effect
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		topic, holder, _ := strings.Cut(n.Payload, " ")
		if holder != p.Holder {
			on(topic)
		}
	}
}
