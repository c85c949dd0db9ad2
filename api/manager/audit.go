package manager

import (
	"context"

	"github.com/picloud/picloud/api/model"
)

// audit appends the record of an action by a. Call it with the context of
// the s.store.Atomically that performs the action, so that the action and
// its record are written together or not at all. details must never hold a
// password, a token or a secret value.
func (s *Service) audit(ctx context.Context, a model.Actor, action, appID, target string, details map[string]any) error {
	return s.store.InsertAudit(ctx, model.AuditRecord{
		UserID: a.UserID, Username: a.Username, TokenID: a.TokenID, Channel: a.Channel, Remote: a.Remote,
		Action: action, AppID: appID, Target: target, Details: details,
	})
}

// Audit lists audit records, newest first.
func (s *Service) Audit(ctx context.Context, q model.AuditQuery) ([]model.AuditRecord, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	return s.store.ListAudit(ctx, q)
}
