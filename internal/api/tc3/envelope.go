package tc3

import (
	"bytes"
	"encoding/json"
	"fmt"
)

type errorEnvelope struct {
	Response struct {
		Error struct {
			Code    string
			Message string
		}
		RequestId string
	}
}

func errorBody(code, msg, requestID string) []byte {
	var env errorEnvelope
	env.Response.Error.Code = code
	env.Response.Error.Message = msg
	env.Response.RequestId = requestID
	b, _ := json.Marshal(env) // strings only: cannot fail
	return b
}

// successBody wraps an action's output object as {"Response":{…,"RequestId"}}.
func successBody(res any, requestID string) ([]byte, error) {
	out, err := json.Marshal(res)
	if err != nil || len(out) < 2 || out[0] != '{' {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(out) + 80)
	b.WriteString(`{"Response":`)
	b.Write(out[:len(out)-1])
	if len(out) > 2 {
		b.WriteByte(',')
	}
	b.WriteString(`"RequestId":`)
	id, _ := json.Marshal(requestID)
	b.Write(id)
	b.WriteString("}}")
	return b.Bytes(), nil
}
