// Package replicate ships secrets from their primary region to their
// replicas: in other regions of this deployment directly, in regions of
// another deployment over a mutually authenticated TLS link.
//
// Shipping is state-based and ordered per secret: a replica is sent the
// primary's whole state at a revision, applies it only if that revision is
// newer than the one it holds, and the primary records the revision each
// replica acknowledged. A delivery lost to a cut link or a restart is sent
// again on the next pass; one delivered twice changes nothing. Values are
// opened on the primary, travel only inside TLS, and are sealed again under
// the replica region's own keys.
package replicate

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// ApplyPath is where a deployment receives replicated states from its peers.
const ApplyPath = "/replication/v1/apply"

// Peer is another deployment serving Region at URL.
type Peer struct {
	Region string
	URL    string // https://host:port
}

// Shipper sends changed primaries to their replicas.
type Shipper struct {
	Store   store.Store
	Secrets *secrets.Service
	// Local reports whether this deployment serves a region itself.
	Local func(region string) bool
	// Peers are the other deployments, by region.
	Peers map[string]Peer
	// Client carries deliveries to peers: mutual TLS, with this
	// deployment's client certificate and the peers' CA.
	Client *http.Client
	Clock  func() time.Time
	Logger *slog.Logger
	// Lag, when set, is told after every pass how far behind each replica
	// region is: the age of the oldest change not yet acknowledged there.
	Lag func(region string, behind time.Duration)

	mu   sync.Mutex
	kick chan struct{}
}

func (s *Shipper) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

func (s *Shipper) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Shipper) kicks() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// Kick starts a pass now: something changed.
func (s *Shipper) Kick() {
	select {
	case s.kicks() <- struct{}{}:
	default:
	}
}

// Loop ships until ctx ends: a pass every interval, and when kicked.
func (s *Shipper) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			s.logger().Warn("replication pass failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kicks():
		}
	}
}

// Pass sends every replica that is behind its primary the primary's state.
// Deliveries that fail are recorded on the primary and tried again on the
// next pass.
func (s *Shipper) Pass(ctx context.Context) error {
	behind := map[string]time.Duration{}
	down := map[string]bool{} // regions that could not be reached this pass
	after := ""
	for {
		var page []*store.Secret
		err := s.Store.View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.ReplicatedSecrets(ctx, after, 100)
			return err
		})
		if err != nil {
			return fmt.Errorf("list replicated secrets: %w", err)
		}
		for _, sec := range page {
			for _, r := range sec.Replicas {
				lag := secrets.ReplicaLag(sec, r, s.now())
				behind[r.Region] = max(behind[r.Region], lag)
				if lag == 0 {
					continue
				}
				if down[r.Region] {
					continue
				}
				if err := s.ship(ctx, sec, r); fault.Is(err, fault.Unavailable) {
					down[r.Region] = true // tried again on the next pass
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].ID
	}
	if s.Lag != nil {
		for region, d := range behind {
			s.Lag(region, d)
		}
	}
	return nil
}

// ship sends one replica its primary's state and records the answer. It
// returns the delivery's error.
func (s *Shipper) ship(ctx context.Context, sec *store.Secret, r store.Replica) error {
	st, err := s.Secrets.StateFor(ctx, sec.ID, r)
	if fault.Is(err, fault.NotFound) {
		return nil // deleted since the listing
	}
	if err == nil {
		err = s.deliver(ctx, st)
		st.Clear()
	}
	if err != nil {
		s.logger().Warn("replication delivery failed", "secret", sec.Name, "region", r.Region, "err", safe(err))
	}
	var rev int64
	var readAt time.Time
	if st != nil {
		rev, readAt = st.Revision, st.ReadAt
	}
	if aerr := s.Secrets.Ack(ctx, sec.ID, r.Region, rev, readAt, err); aerr != nil && ctx.Err() == nil {
		s.logger().Warn("replication acknowledgement not recorded", "secret", sec.Name, "region", r.Region, "err", safe(aerr))
	}
	return err
}

func (s *Shipper) deliver(ctx context.Context, st *secrets.ReplicaState) error {
	if s.Local != nil && s.Local(st.Region) {
		return s.Secrets.Apply(ctx, st)
	}
	p, ok := s.Peers[st.Region]
	if !ok {
		return fault.E("replicate.deliver", fault.Invalid, "region "+st.Region+" is neither served here nor linked to a peer")
	}
	return s.send(ctx, p, st)
}

// codeNotReplica is a peer's answer when the name is taken there by a
// secret that is not a replica.
const codeNotReplica = "NotReplica"

// wireError is a peer's refusal.
type wireError struct {
	Code    string
	Message string
}

func (s *Shipper) send(ctx context.Context, p Peer, st *secrets.ReplicaState) error {
	const op = "replicate.send"
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	defer clear(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.URL, "/")+ApplyPath, bytes.NewReader(body))
	if err != nil {
		return fault.Wrap(op, fault.Invalid, "bad peer URL for region "+p.Region, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		return fault.Wrap(op, fault.Unavailable, "the deployment serving "+p.Region+" cannot be reached", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var we wireError
	_ = json.Unmarshal(b, &we)
	kind := fault.Unavailable
	if we.Code == codeNotReplica {
		return fault.E(op, fault.WrongState, "region "+p.Region+": "+clip(we.Message)).Because(fault.NotReplica)
	}
	if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden {
		kind = fault.Invalid
	}
	return fault.E(op, kind, fmt.Sprintf("region %s answered %d: %s", p.Region, resp.StatusCode, clip(we.Message)))
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

func safe(err error) string { return fault.Message(err) }

// Handler receives states from peers. It must be served only to clients
// that presented a certificate the peers' CA signed: Verified says whether
// a request's TLS state shows one.
type Handler struct {
	Secrets *secrets.Service
	// Serves reports whether this deployment serves a region.
	Serves func(region string) bool
	// Verified reports whether the client presented a peer certificate.
	Verified func(*tls.ConnectionState) bool
	Logger   *slog.Logger
}

// MaxState bounds a delivery's size.
const MaxState = 8 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if r.TLS == nil || h.Verified == nil || !h.Verified(r.TLS) {
		writeErr(w, http.StatusForbidden, "NotPeer", "replication needs a peer certificate")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxState+1))
	if err != nil || len(body) > MaxState {
		writeErr(w, http.StatusBadRequest, "BadState", "the state is unreadable or too large")
		return
	}
	defer clear(body)
	var st secrets.ReplicaState
	if err := json.Unmarshal(body, &st); err != nil {
		writeErr(w, http.StatusBadRequest, "BadState", "the state is not JSON")
		return
	}
	defer st.Clear()
	if st.Account == "" || st.Name == "" || !h.Serves(st.Region) {
		writeErr(w, http.StatusBadRequest, "BadState", "the state names no account, no secret, or a region not served here")
		return
	}
	if err := h.Secrets.Apply(r.Context(), &st); err != nil {
		code := http.StatusServiceUnavailable
		if fault.ReasonOf(err) == fault.NotReplica {
			writeErr(w, http.StatusConflict, codeNotReplica, fault.Message(err))
			return
		}
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Kind == fault.Invalid {
			code = http.StatusBadRequest
		}
		if h.Logger != nil {
			h.Logger.Warn("replica not applied", "secret", st.Name, "region", st.Region, "err", fault.Message(err))
		}
		writeErr(w, code, "NotApplied", fault.Message(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"Revision":%d}`, st.Revision)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wireError{Code: code, Message: msg})
}
