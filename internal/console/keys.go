package console

import (
	"context"
	"net/http"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/kms"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

type keysData struct {
	Keys []*store.Key // the account's default keys first, then its own
}

// listKeys lists the region's customer master keys as kms:ListKeyDetail.
func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request, s *session) {
	var d keysData
	err := h.do(r, s, op{family: "kms", action: "ListKeyDetail", params: map[string]any{}}, func(ctx context.Context, sc secrets.Scope) error {
		if h.cfg.KMS == nil {
			return fault.E("console.keys", fault.Unavailable, "Customer master keys are not served here.")
		}
		ks := kms.Scope{Account: sc.Account, Region: sc.Region}
		for _, service := range []bool{true, false} {
			list, err := h.cfg.KMS.List(ctx, ks, service)
			if err != nil {
				return err
			}
			d.Keys = append(d.Keys, list...)
		}
		return nil
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "keys", view{Title: "Keys", Nav: "keys", Data: d})
}
