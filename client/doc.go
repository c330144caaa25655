// Package client is the Go SDK for Coffer: typed calls for every action of
// the Tencent Cloud SSM API (2019-09-23) that a Coffer server serves, and
// for Coffer's own SSM actions (databases, roll-outs, WaitSecretChange),
// signed with TC3-HMAC-SHA256, retried with exponential back-off and jitter
// where a retry is safe, and a Cache that keeps secret values in memory,
// refreshes them before they expire, serves them stale while Coffer is
// unreachable and tells watchers, through long polls, when a secret's
// current version changes.
//
// A Client is safe for concurrent use. Errors the server returns are
// *Error values carrying the Tencent error code and the request id; IsNotFound,
// IsDenied, IsUnavailable and friends classify them (and transport errors).
//
// The current version of a secret, as the SDK's Current calls and the Cache
// use it, is the version the server serves the caller by default: the one
// labelled current (or, during a roll-out the caller is part of, the
// roll-out's), found with WaitSecretChange. Against a server without that
// action it is the newest version. docs/sdk.md has the details.
package client
