package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Protocol is the API family a run speaks.
type Protocol uint8

const (
	// Tencent is Tencent Cloud SSM 2019-09-23: TC3-HMAC-SHA256, the action in
	// X-TC-Action, errors in a 200 envelope.
	Tencent Protocol = iota
	// AWS is AWS Secrets Manager: SigV4, JSON 1.1 with the action in
	// X-Amz-Target, errors as non-200 statuses.
	AWS
)

// ParseProtocol returns the protocol named s: "tc3" (or "tencent") or "aws"
// (or "sigv4"). Any other name is an error.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(s) {
	case "tc3", "tencent":
		return Tencent, nil
	case "aws", "sigv4":
		return AWS, nil
	}
	return 0, fmt.Errorf("protocol %q: want tc3 or aws", s)
}

// String returns "tc3" or "aws".
func (p Protocol) String() string {
	if p == AWS {
		return "aws"
	}
	return "tc3"
}

// action is one kind of request the tool sends: the four of a workload, and
// those of setup, housekeeping and cleanup.
type action uint8

const (
	actGet action = iota
	actPut
	actList
	actDescribe
	actCreate
	actListVersions
	actDeleteVersion
	actDisable
	actDelete
	nActions
)

var actionNames = [nActions]string{
	actGet: "GetSecretValue", actPut: "PutSecretValue", actList: "ListSecrets", actDescribe: "DescribeSecret",
	actCreate: "CreateSecret", actListVersions: "ListSecretVersionIds", actDeleteVersion: "DeleteSecretVersion",
	actDisable: "DisableSecret", actDelete: "DeleteSecret",
}

func (a action) String() string { return actionNames[a] }

// Content types, and the TC3 API version.
const (
	tc3ContentType = "application/json"
	awsContentType = "application/x-amz-json-1.1"
	tc3Version     = "2019-09-23"
	awsTargetPre   = "secretsmanager."
)

// Error codes for failures the server did not name.
const (
	codeTimeout    = "ClientTimeout"     // no answer within the request timeout
	codeConnection = "ConnectionError"   // could not connect, or the connection broke
	codeMalformed  = "MalformedResponse" // an answer that is not the protocol's JSON
)

// Codes that mean "already exists" on CreateSecret.
const (
	tc3Exists = "ResourceInUse.SecretExists"
	awsExists = "ResourceExistsException"
)

func (p Protocol) existsCode() string {
	if p == AWS {
		return awsExists
	}
	return tc3Exists
}

// nameKey is the field that names a secret in a request.
func (p Protocol) nameKey(a action) string {
	switch {
	case p == Tencent:
		return "SecretName"
	case a == actCreate:
		return "Name"
	}
	return "SecretId"
}

// body appends the JSON body of a to dst. name, version and value are used
// by the actions that take them; offset and limit by ListSecrets.
func (p Protocol) body(dst []byte, a action, name, version, value string, offset, limit int) []byte {
	b := objectWriter{buf: append(dst, '{')}
	switch a {
	case actList:
		if p == AWS {
			b.num("MaxResults", limit)
			break
		}
		b.num("Offset", offset)
		b.num("Limit", limit)
	case actGet:
		b.str(p.nameKey(a), name)
		if p == Tencent {
			b.str("VersionId", "SSM_Current")
		}
	case actPut, actCreate:
		b.str(p.nameKey(a), name)
		switch {
		case p == AWS:
			b.str("ClientRequestToken", version)
		case a == actPut:
			b.str("VersionId", version)
		}
		b.str("SecretString", value)
	case actDeleteVersion:
		b.str(p.nameKey(a), name)
		b.str("VersionId", version)
	case actDelete:
		b.str(p.nameKey(a), name)
		if p == AWS {
			b.raw("ForceDeleteWithoutRecovery", "true")
		} else {
			b.num("RecoveryWindowInDays", 0)
		}
	default: // DescribeSecret, ListSecretVersionIds, DisableSecret
		b.str(p.nameKey(a), name)
	}
	return append(b.buf, '}')
}

// objectWriter appends the members of a JSON object.
type objectWriter struct {
	buf []byte
	n   int
}

func (o *objectWriter) key(k string) {
	if o.n > 0 {
		o.buf = append(o.buf, ',')
	}
	o.n++
	o.buf = appendJSONString(o.buf, k)
	o.buf = append(o.buf, ':')
}

func (o *objectWriter) str(k, v string) { o.key(k); o.buf = appendJSONString(o.buf, v) }
func (o *objectWriter) num(k string, v int) {
	o.key(k)
	o.buf = strconv.AppendInt(o.buf, int64(v), 10)
}
func (o *objectWriter) raw(k, v string) { o.key(k); o.buf = append(o.buf, v...) }

// appendJSONString appends s as a JSON string. Names and values the tool
// makes are plain ASCII; the escapes are there for correctness, not speed.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// setHeaders sets the unsigned protocol headers of a request for a. The
// transport only reads header values, so every request shares them.
func (p Protocol) setHeaders(h http.Header, a action, region []string) {
	if p == AWS {
		h["Content-Type"] = awsContentTypeHdr
		h["X-Amz-Target"] = awsTargetHdrs[a]
		return
	}
	h["Content-Type"] = tc3ContentTypeHdr
	h["X-Tc-Action"] = tc3ActionHdrs[a]
	h["X-Tc-Version"] = tc3VersionHdr
	h["X-Tc-Region"] = region
}

// Header values shared by every request: the transport only reads them.
var (
	tc3ContentTypeHdr = []string{tc3ContentType}
	awsContentTypeHdr = []string{awsContentType}
	tc3VersionHdr     = []string{tc3Version}
	tc3ActionHdrs     = actionHeaders("")
	awsTargetHdrs     = actionHeaders(awsTargetPre)
)

func actionHeaders(prefix string) (t [nActions][]string) {
	for a := range nActions {
		t[a] = []string{prefix + a.String()}
	}
	return t
}

// result classifies a response: the error code and message, both "" for a
// success. A Tencent error comes as HTTP 200 with Response.Error; an AWS
// error as a non-200 status with X-Amzn-ErrorType or __type.
func (p Protocol) result(status int, h http.Header, body []byte) (code, msg string) {
	if p == AWS {
		return awsResult(status, h, body)
	}
	return tc3Result(status, body)
}

func tc3Result(status int, body []byte) (code, msg string) {
	if status != http.StatusOK {
		return "HTTP" + strconv.Itoa(status), strings.TrimSpace(string(clip(body)))
	}
	// encoding/json matches keys case-insensitively and reads \u escapes in
	// them, so only a body with neither a backslash nor "error" in any case
	// is surely a success; anything else is decoded.
	if bytes.IndexByte(body, '\\') < 0 && !containsFoldError(body) {
		return "", ""
	}
	var env struct {
		Response struct {
			Error *struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return codeMalformed, err.Error()
	}
	if e := env.Response.Error; e != nil && e.Code != "" {
		return e.Code, e.Message
	}
	return "", ""
}

// containsFoldError reports whether body holds "error" in any mix of cases,
// without allocating.
func containsFoldError(body []byte) bool {
	const word = "error"
	for i := 0; i+len(word) <= len(body); i++ {
		j := 0
		for ; j < len(word); j++ {
			if body[i+j]|0x20 != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

func awsResult(status int, h http.Header, body []byte) (code, msg string) {
	if status == http.StatusOK {
		return "", ""
	}
	var e struct {
		Type    string `json:"__type"`
		Message string
		Lower   string `json:"message"`
	}
	_ = json.Unmarshal(body, &e) // the header may name the error on its own
	code = h.Get("X-Amzn-ErrorType")
	if code == "" {
		code = e.Type
	}
	code, _, _ = strings.Cut(code, ":") // "Type:http://internal.amazon.com/..."
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:] // "com.amazonaws...#Type"
	}
	if code == "" {
		code = "HTTP" + strconv.Itoa(status)
	}
	if e.Message == "" {
		e.Message = e.Lower
	}
	return code, e.Message
}

// clip bounds the part of a non-protocol answer quoted in a message.
func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
