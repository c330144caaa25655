package client_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// A secret given the coffer:random rotator is rotated now, and the flow
// the rotation runs as is waited for.
func ExampleClient_RotateProductSecret() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	err = c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "api-token", Enable: true, Days: 30, Function: "coffer:random"})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.RotateProductSecret(ctx, "api-token", nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.WaitFlow(ctx, flow, time.Second); errors.Is(err, client.ErrFlowFailed) {
		log.Printf("the rotation was rolled back: %v", err)
	} else if err != nil {
		log.Fatal(err)
	}
}

// WaitSecretChange blocks until the version a caller reads changes.
func ExampleClient_WaitSecretChange() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	known := ""
	for {
		ch, err := c.WaitSecretChange(ctx, "app-config", known, client.MaxWait)
		if err != nil {
			log.Fatal(err)
		}
		if ch.Changed && known != "" {
			log.Printf("app-config is now version %s", ch.VersionID)
		}
		known = ch.VersionID
	}
}
