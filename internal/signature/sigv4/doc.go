// Package sigv4 signs and verifies AWS Signature Version 4 requests
// (AWS4-HMAC-SHA256) sent in the Authorization header. A client signs with
// SignRequest; a server calls ParseRequest, looks up the secret key for the
// access key ID it found, then Verify. It depends on the standard library only.
package sigv4
