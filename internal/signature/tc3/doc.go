// Package tc3 signs and verifies Tencent Cloud API 3.0 requests
// (TC3-HMAC-SHA256). A client signs with SignRequest; a server calls
// ParseRequest, looks up the key for the SecretId it found, then Verify.
// It depends on the standard library only.
package tc3
