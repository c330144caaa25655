package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
)

func mustTestKeys(tb testing.TB, seed byte) *audit.Keys {
	tb.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	return &audit.Keys{Signer: priv, Public: pub, KeyID: audit.KeyID(pub)}
}

func TestVerifyCheckpoint(t *testing.T) {
	k := mustTestKeys(t, 1)
	other := mustTestKeys(t, 2)
	head := bytes.Repeat([]byte{7}, audit.HashSize)
	at := time.Date(2026, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	tests := []struct {
		name   string
		pub    ed25519.PublicKey
		change func(c *audit.Checkpoint)
		ok     bool
	}{
		{"as signed", k.Public, func(*audit.Checkpoint) {}, true},
		{"other seq", k.Public, func(c *audit.Checkpoint) { c.Seq++ }, false},
		{"other head", k.Public, func(c *audit.Checkpoint) { c.Head[0] ^= 1 }, false},
		{"other time", k.Public, func(c *audit.Checkpoint) { c.Time = c.Time.Add(time.Millisecond) }, false},
		{"other key id", k.Public, func(c *audit.Checkpoint) { c.KeyID = other.KeyID }, false},
		{"forged signature", k.Public, func(c *audit.Checkpoint) { c.Signature[10] ^= 1 }, false},
		{"short signature", k.Public, func(c *audit.Checkpoint) { c.Signature = c.Signature[:10] }, false},
		{"other public key", other.Public, func(*audit.Checkpoint) {}, false},
		{"malformed public key", k.Public[:5], func(*audit.Checkpoint) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := audit.Sign(k, 42, head, at)
			tt.change(c)
			err := audit.VerifyCheckpoint(tt.pub, c)
			if got := err == nil; got != tt.ok {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestSignKeepsMilliseconds(t *testing.T) {
	k := mustTestKeys(t, 1)
	c := audit.Sign(k, 1, make([]byte, audit.HashSize), time.Date(2026, 2, 3, 4, 5, 6, 789_123_456, time.FixedZone("x", 3600)))
	if want := time.Date(2026, 2, 3, 3, 5, 6, 789_000_000, time.UTC); !c.Time.Equal(want) || c.Time.Location() != time.UTC {
		t.Fatalf("got time %v, want %v", c.Time, want)
	}
	if c.KeyID != k.KeyID {
		t.Fatalf("got key id %q, want %q", c.KeyID, k.KeyID)
	}
}

func TestCheckpointNow(t *testing.T) {
	ctx := context.Background()
	f := mustChain(t)
	cpr := &audit.Checkpointer{Log: f.log, Keys: f.keys, Clock: f.clock.Now}
	if c, err := cpr.CheckpointNow(ctx); err != nil || c != nil {
		t.Fatalf("empty chain: got %v, %v; want nil, nil", c, err)
	}
	f.mustAppend(t, 4)
	first, err := cpr.CheckpointNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 4 || !bytes.Equal(first.Head, mustEvent(t, f, 4).Hash) {
		t.Fatalf("got checkpoint at %d, want one at the head, 4", first.Seq)
	}
	again, err := cpr.CheckpointNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Time.Equal(first.Time) || !bytes.Equal(again.Signature, first.Signature) {
		t.Fatal("an unmoved head got a new checkpoint")
	}
	f.mustAppend(t, 2)
	if c, err := cpr.CheckpointNow(ctx); err != nil || c.Seq != 6 {
		t.Fatalf("got %v, %v; want a checkpoint at 6", c, err)
	}
	if got := mustCheckpoints(t, f); len(got) != 2 {
		t.Fatalf("got %d stored checkpoints, want 2", len(got))
	}
}

func mustCheckpoints(tb testing.TB, f *chainFixture) []*audit.Checkpoint {
	tb.Helper()
	var cps []*audit.Checkpoint
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		cps, err = tx.Checkpoints(context.Background(), 0, 0)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return cps
}

func TestCheckpointerRun(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&audit.Checkpointer{Log: f.log, Keys: f.keys, Interval: 5 * time.Millisecond}).Run(ctx)
	}()
	waitFor(t, func() bool { cps := mustCheckpoints(t, f); return len(cps) > 0 && cps[len(cps)-1].Seq == 3 })
	f.mustAppend(t, 2)
	waitFor(t, func() bool { cps := mustCheckpoints(t, f); return cps[len(cps)-1].Seq == 5 })
	cancel()
	<-done
	f.mustAppend(t, 1)
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 6, 1, 6)
}

func TestCheckpointerSignsAtShutdown(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	(&audit.Checkpointer{Log: f.log, Keys: f.keys, Interval: time.Hour}).Run(ctx)
	if cps := mustCheckpoints(t, f); len(cps) != 1 || cps[0].Seq != 3 {
		t.Fatalf("got %d checkpoints, want one at 3", len(cps))
	}
}

// waitFor polls cond until it holds, failing after a few seconds.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
