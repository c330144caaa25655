package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// A client configured from COFFER_ADDR, COFFER_REGION, COFFER_CACERT,
// COFFER_SECRET_ID and COFFER_SECRET_KEY reads a secret's current value.
func ExampleFromEnv() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.GetCurrentSecretValue(context.Background(), "db-password")
	if client.IsNotFound(err) {
		log.Fatal("no secret db-password")
	} else if err != nil {
		log.Fatal(err)
	}
	connect(v.Value.Text())
}

// Options name the endpoint, the credentials and a CA to trust.
func ExampleNew() {
	c, err := client.New(client.Options{
		Endpoint:    "https://coffer.internal:8443",
		Region:      "ap-guangzhou",
		Credentials: client.StaticCredentials("AKID...", "..."),
		CAFile:      "/etc/coffer/ca.pem",
		Timeout:     5 * time.Second,
		Retry:       client.RetryPolicy{MaxAttempts: 5},
	})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := c.PutSecretValue(context.Background(), client.PutSecretValueInput{
		Name:  "db-password",
		Value: client.Text("n3w-pa55"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new version", ref.VersionID)
}

// Temporary credentials (from an STS AssumeRole, say) are fetched when
// needed and renewed before they expire; the token travels as X-TC-Token.
func ExampleTemporaryCredentials() {
	creds := client.TemporaryCredentials(func(ctx context.Context) (client.Credentials, error) {
		return assumeRole(ctx) // your call to STS
	})
	c, err := client.New(client.Options{Endpoint: "https://coffer.internal:8443", Credentials: creds})
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

// A Cache serves values from memory, refreshes them in the background and
// keeps serving them, marked Stale, while Coffer is unreachable.
func ExampleCache() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cache := client.NewCache(c, client.CacheOptions{TTL: 5 * time.Minute})
	defer cache.Close()

	v, err := cache.Get(context.Background(), "db-password")
	if err != nil {
		log.Fatal(err)
	}
	if v.Stale {
		log.Printf("Coffer unreachable (%v); using the value fetched at %v", v.Err, v.FetchedAt)
	}
	connect(v.Value.Text())
}

// Watch calls back when a PutSecretValue makes a new version current.
func ExampleCache_Watch() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cache := client.NewCache(c, client.CacheOptions{PollInterval: 10 * time.Second})
	defer cache.Close()

	stop := cache.Watch("db-password", func(ch client.Change) {
		log.Printf("db-password: version %s replaces %s", ch.VersionID, ch.PreviousVersionID)
		connect(ch.Value.Text())
	})
	defer stop()
	select {} // serve
}

// Changes delivers the same notifications on a channel.
func ExampleCache_Changes() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cache := client.NewCache(c, client.CacheOptions{PollInterval: time.Second})
	defer cache.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for ch := range cache.Changes(ctx, "api-token") {
		fmt.Println("api-token is now version", ch.VersionID)
	}
}

// AllSecrets iterates over every page of ListSecrets.
func ExampleClient_AllSecrets() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for s, err := range c.AllSecrets(context.Background(), client.ListSecretsInput{Search: "db-", Ascending: true}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.Name, s.Status, s.CreateTime.Format(time.DateOnly))
	}
}

// Errors carry Tencent's code and the request id; helpers classify them.
func ExampleError() {
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetSecretValue(context.Background(), "missing", client.CurrentVersion)
	switch {
	case client.IsNotFound(err):
		fmt.Println("no such secret")
	case client.IsDenied(err):
		fmt.Println("not allowed")
	case client.IsUnavailable(err):
		fmt.Println("Coffer is unreachable; try again later")
	case err != nil:
		var e *client.Error
		if errors.As(err, &e) {
			fmt.Println(e.Code, e.RequestID)
		}
	}
}

func connect(string) {}

func assumeRole(context.Context) (client.Credentials, error) { return client.Credentials{}, nil }
