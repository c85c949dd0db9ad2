package manager

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

// AppDataUsage is what an app's data takes against its storage quota.
func (s *Service) AppDataUsage(ctx context.Context, appID string) (model.DataUsage, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return model.DataUsage{}, err
	}
	stores, err := s.store.AppDataUsage(ctx, appID)
	if err != nil {
		return model.DataUsage{}, err
	}
	own, err := s.store.AppStorageQuota(ctx, appID)
	if err != nil {
		return model.DataUsage{}, err
	}
	u := model.DataUsage{QuotaBytes: s.storage.Load()[0], OwnQuotaBytes: own, Stores: stores}
	if own != nil {
		u.QuotaBytes = *own
	}
	for _, st := range stores {
		u.UsedBytes += st.Bytes
	}
	return u, nil
}

// SetAppStorageQuota gives an app its own storage quota in bytes, from 1
// to the ceiling, or the default again with nil; audited. Data already
// stored stays, even above a lowered quota: only writes are refused.
func (s *Service) SetAppStorageQuota(ctx context.Context, a model.Actor, appID string, bytes *int64) (model.DataUsage, error) {
	ceiling := s.storage.Load()[1]
	if bytes != nil && (*bytes < 1 || *bytes > ceiling) {
		return model.DataUsage{}, fmt.Errorf("%w: storage_bytes must be from 1 to %d (PICLOUD_SANDBOX_MAX_STORAGE_MB), or null for the default",
			model.ErrInvalid, ceiling)
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.SetAppStorageQuota(ctx, appID, bytes); err != nil {
			return err
		}
		return s.audit(ctx, a, "app.storage_quota", appID, appID, map[string]any{"storage_bytes": bytes})
	})
	if err != nil {
		return model.DataUsage{}, err
	}
	if s.cfg.QuotaChanged != nil {
		s.cfg.QuotaChanged(appID)
	}
	s.log.Info("app storage quota set", "app", appID, "bytes", bytes, "user", a.Username)
	return s.AppDataUsage(ctx, appID)
}
