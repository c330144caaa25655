package audit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// MaxParams bounds the recorded request parameters; longer ones are cut.
const MaxParams = 8 << 10

// secretFields are request members that carry secret material, in every
// API family; their values are recorded only as HMACs.
var secretFields = map[string]bool{
	"secretstring": true, "secretbinary": true, "plaintext": true, "secretkey": true,
	"secretaccesskey": true, "password": true, "tmpsecretkey": true, "token": true,
	"sessiontoken": true, "privatekey": true,
}

// Redactor turns request bodies into recordable parameters.
type Redactor struct {
	Key []byte // the deployment's HMAC key
}

// Params returns body (JSON, an object as every API sends) with every
// secret-carrying member replaced by "hmac-sha256:<hex>", so equal values
// can be correlated without being revealed. A body that is not JSON is
// recorded as {"unparsable":true}, one longer than MaxParams as
// {"truncated":true}.
//
// Most bodies (names, ids, flags, base64 values) are read by a scanner of
// their own that makes the same record without building maps and
// interfaces (fastParams); any body it does not take whole goes the
// reflective way, reflectParams.
func (r *Redactor) Params(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	out, ok := r.fastParams(body)
	if !ok {
		out, ok = r.reflectParams(body)
	}
	switch {
	case !ok:
		return `{"unparsable":true}`
	case len(out) > MaxParams:
		return `{"truncated":true}`
	}
	return string(out)
}

// reflectParams is Params's record by encoding/json: decode, redact,
// encode. It returns false when body is not JSON.
func (r *Redactor) reflectParams(body []byte) ([]byte, bool) {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	out, err := json.Marshal(r.walk(v))
	return out, err == nil
}

func (r *Redactor) walk(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secretFields[strings.ToLower(k)] {
				t[k] = r.MAC(x)
			} else {
				t[k] = r.walk(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = r.walk(x)
		}
	}
	return v
}

// MAC returns the recordable stand-in for a secret value.
func (r *Redactor) MAC(v any) string {
	if s, ok := v.(string); ok {
		return r.mac([]byte(s))
	}
	b, _ := json.Marshal(v)
	return r.mac(b)
}
